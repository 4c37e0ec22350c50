import { validate, version } from 'uuid';
import { IMPORT_OUTCOMES } from '@app/messaging';
import { OUTCOMES } from './events.js';
import { IMPORT_UUID_NAMESPACE, messageUuid, type MessageIdentity } from './message-uuid.js';

const identity: MessageIdentity = {
  owner: '+12025550143',
  counterpart: '+12025550178',
  time: 1764072000123,
  direction: 'sent',
  text: 'Running late',
};

describe('messageUuid', () => {
  it('is a version 5 uuid under our namespace, the same for the same message', () => {
    const uuid = messageUuid(identity);
    expect(validate(uuid) && version(uuid)).toBe(5);
    expect(messageUuid({ ...identity })).toBe(uuid);
    // Pinned: a change here would make every resumed import a second copy.
    expect(IMPORT_UUID_NAMESPACE).toBe('a16f4e4c-ba37-4c4c-b8f9-72c783e4f086');
    expect(uuid).toBe(messageUuid(identity));
  });

  it('ignores how the numbers are written', () => {
    expect(
      messageUuid({ ...identity, owner: '+1 (202) 555-0143', counterpart: '+1.202.555.0178' }),
    ).toBe(messageUuid(identity));
  });

  it.each<[string, Partial<MessageIdentity>]>([
    ['owner', { owner: '+12025550144' }],
    ['counterpart', { counterpart: '+12025550179' }],
    ['time', { time: identity.time + 1 }],
    ['direction', { direction: 'received' }],
    ['text', { text: 'Running late!' }],
    // Without a separator between fields these two would be one name.
    ['field boundaries', { owner: '+1202555014', counterpart: '3+12025550178' }],
  ])('changes with the %s', (_, change) => {
    expect(messageUuid({ ...identity, ...change })).not.toBe(messageUuid(identity));
  });
});

describe('the outcomes the CLI knows', () => {
  it('are exactly the import endpoint’s', () => {
    expect([...OUTCOMES]).toEqual([...IMPORT_OUTCOMES]);
  });
});
