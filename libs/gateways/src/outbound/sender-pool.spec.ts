import { createRequire } from 'node:module';
import type { ConfigType } from '@nestjs/config';
import type { DeliveryReports, outboundConfig } from '@app/outbound';
import type { Gateway } from '../gateway.entity.js';
import type { GatewaysService, OutboundConnection } from '../gateways.service.js';

/** Whether a CommonJS module whose path ends with `entry` is in Node's module cache. */
const loaded = (entry: RegExp): boolean =>
  Object.keys(createRequire(import.meta.url).cache).some((path) => entry.test(path));
const TWILIO_SDK = /[\\/]node_modules[\\/]twilio[\\/]lib[\\/]index\.js$/;
const SMPP_LIBRARY = /[\\/]node_modules[\\/]smpp[\\/]lib[\\/]smpp\.js$/;

const statusCallbackUrl = 'https://sms.example.com/api/gateways/g-twilio/webhook?source=twilio';
const connections: Record<string, OutboundConnection> = {
  'g-twilio': {
    gateway: { id: 'g-twilio' } as Gateway,
    settings: {
      provider: 'twilio',
      accountSid: `AC${'0'.repeat(32)}`,
      ratePerSecond: 1,
      statusCallbackUrl,
    },
    credentials: {},
    secret: 'auth-token',
  },
  'g-smpp': {
    gateway: { id: 'g-smpp' } as Gateway,
    settings: {
      provider: 'smpp',
      url: 'smpp://bench@127.0.0.1:1',
      host: '127.0.0.1',
      port: 1,
      systemId: 'bench',
      ratePerSecond: 1,
    },
    credentials: { password: 'secret' },
    secret: null,
  },
};

describe('SenderPool', () => {
  it('loads the Twilio SDK and the SMPP library only when a connection of theirs first sends', async () => {
    // The whole gateways module, as the app imports it: the webhook reads Twilio's callbacks too.
    await import('../index.js');
    const { SenderPool } = await import('./sender-pool.js');
    expect(loaded(TWILIO_SDK)).toBe(false);
    expect(loaded(SMPP_LIBRARY)).toBe(false);

    const gateways = { findOutbound: (id: string) => Promise.resolve(connections[id]) };
    const pool = new SenderPool(
      gateways as unknown as GatewaysService,
      {} as DeliveryReports,
      { leaseMs: 30_000 } as ConfigType<typeof outboundConfig>,
    );
    try {
      expect((await pool.get('g-twilio'))?.provider).toBe('twilio');
      expect(loaded(TWILIO_SDK)).toBe(true);
      expect(loaded(SMPP_LIBRARY)).toBe(false);
      expect(pool.statusCallbackUrl('g-twilio')).toBe(statusCallbackUrl);

      // Made, not bound: nothing listens on port 1, and this test sends nothing.
      expect((await pool.get('g-smpp'))?.provider).toBe('smpp');
      expect(loaded(SMPP_LIBRARY)).toBe(true);
    } finally {
      await pool.onApplicationShutdown();
    }
  });
});
