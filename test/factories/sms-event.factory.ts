import { randomUUID } from 'node:crypto';

export interface SmsEventBody {
  senderPhone: string;
  receiverPhone: string;
  messageText: string;
  timestamp: number;
  uuid: string;
}

let sequence = 0;

/** A valid event; each call gets a fresh uuid and a later timestamp. */
export function buildSmsEvent(overrides: Partial<SmsEventBody> = {}): SmsEventBody {
  sequence += 1;
  return {
    senderPhone: '+12025550143',
    receiverPhone: '+12025550178',
    messageText: `Hello #${sequence}`,
    timestamp: 1_764_000_000 + sequence,
    uuid: randomUUID(),
    ...overrides,
  };
}

/** A random, valid, not-yet-used US number, so test files never share a conversation. */
export function randomPhone(): string {
  const subscriber = String(Math.floor(Math.random() * 10_000)).padStart(4, '0');
  const exchange = 200 + Math.floor(Math.random() * 700);
  return `+1202${exchange}${subscriber}`;
}
