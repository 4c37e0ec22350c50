import { createRequire } from 'node:module';
import type { ConfigType } from '@nestjs/config';
import type { DeliveryReports, outboundConfig } from '@app/outbound';
import type { Gateway } from '../gateway.entity.js';
import type { GatewaysService, OutboundConnection } from '../gateways.service.js';

/** Whether the Twilio SDK's entry module is in Node's module cache (it is CommonJS). */
const twilioLoaded = (): boolean =>
  Object.keys(createRequire(import.meta.url).cache).some((path) =>
    /[\\/]node_modules[\\/]twilio[\\/]lib[\\/]index\.js$/.test(path),
  );

const statusCallbackUrl = 'https://sms.example.com/api/gateways/g-twilio/webhook?source=twilio';
const twilioConnection: OutboundConnection = {
  gateway: { id: 'g-twilio' } as Gateway,
  settings: {
    provider: 'twilio',
    accountSid: `AC${'0'.repeat(32)}`,
    ratePerSecond: 1,
    statusCallbackUrl,
  },
  credentials: {},
  secret: 'auth-token',
};

describe('SenderPool', () => {
  it('loads the Twilio SDK only when a Twilio connection first sends', async () => {
    // The whole gateways module, as the app imports it: the webhook reads Twilio's callbacks too.
    await import('../index.js');
    const { SenderPool } = await import('./sender-pool.js');
    expect(twilioLoaded()).toBe(false);

    const gateways = { findOutbound: () => Promise.resolve(twilioConnection) };
    const pool = new SenderPool(
      gateways as unknown as GatewaysService,
      {} as DeliveryReports,
      { leaseMs: 30_000 } as ConfigType<typeof outboundConfig>,
    );
    const sender = await pool.get('g-twilio');

    expect(sender?.provider).toBe('twilio');
    expect(twilioLoaded()).toBe(true);
    expect(pool.statusCallbackUrl('g-twilio')).toBe(statusCallbackUrl);
    await pool.onApplicationShutdown();
  });
});
