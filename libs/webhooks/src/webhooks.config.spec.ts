import { webhooksConfig } from './webhooks.config.js';

describe('webhooksConfig', () => {
  it('wants https in production, and not elsewhere', () => {
    expect(webhooksConfig.read({ NODE_ENV: 'production' })).toMatchObject({
      requireHttps: true,
      allowPrivate: false,
    });
    expect(webhooksConfig.read({ NODE_ENV: 'development' }).requireHttps).toBe(false);
  });

  it('lifts both rules with WEBHOOK_ALLOW_PRIVATE=true', () => {
    expect(
      webhooksConfig.read({ NODE_ENV: 'production', WEBHOOK_ALLOW_PRIVATE: 'true' }),
    ).toMatchObject({ requireHttps: false, allowPrivate: true });
  });

  it('names a bad variable', () => {
    expect(() => webhooksConfig.read({ WEBHOOK_ALLOW_PRIVATE: 'maybe' })).toThrow(
      'WEBHOOK_ALLOW_PRIVATE must be true or false',
    );
    expect(() => webhooksConfig.read({ WEBHOOK_TIMEOUT_MS: '10' })).toThrow('WEBHOOK_TIMEOUT_MS');
  });
});
