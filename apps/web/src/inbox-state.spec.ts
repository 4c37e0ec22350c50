import {
  inboxReducer,
  initialInbox,
  type InboxState,
  upsertMessage,
  type UiMessage,
} from './inbox-state.js';
import type { ConversationSummary, ThreadMessage } from './types.js';

const ME = '+12025550143';
const FRIEND = '+12025550178';

function message(overrides: Partial<ThreadMessage> = {}): ThreadMessage {
  return {
    uuid: 'u1',
    senderPhone: FRIEND,
    receiverPhone: ME,
    text: 'hi',
    direction: 'received',
    status: 'sent',
    sentAt: 100,
    receivedAt: null,
    timestamp: overrides.sentAt ?? 100,
    encoding: 'GSM-7',
    segments: 1,
    ...overrides,
  };
}

function summary(counterpart: string, timestamp: number, count = 1): ConversationSummary {
  return {
    counterpart,
    messageCount: count,
    lastMessage: {
      uuid: `last-${counterpart}`,
      text: 'x',
      timestamp,
      direction: 'sent',
      status: 'sent',
    },
  };
}

function withList(items: ConversationSummary[]): InboxState {
  return inboxReducer(initialInbox, {
    type: 'list/loaded',
    page: { conversations: items, nextCursor: null },
    more: false,
  });
}

describe('upsertMessage', () => {
  it('keeps time order, appending the usual newest message', () => {
    const list = [message({ uuid: 'a', sentAt: 1 }), message({ uuid: 'c', sentAt: 3 })];
    expect(upsertMessage(list, message({ uuid: 'b', sentAt: 2 })).map((m) => m.uuid)).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(upsertMessage(list, message({ uuid: 'd', sentAt: 4 })).map((m) => m.uuid)).toEqual([
      'a',
      'c',
      'd',
    ]);
  });

  it('never lets a late event undo a delivery', () => {
    const delivered = [message({ status: 'delivered', receivedAt: 104 })];
    expect(upsertMessage(delivered, message({ status: 'sent' }))).toBe(delivered);
  });

  it('replaces our pending copy with the server one', () => {
    const pending: UiMessage[] = [{ ...message({ direction: 'sent' }), local: 'sending' }];
    expect(upsertMessage(pending, message({ direction: 'sent' }))[0].local).toBeUndefined();
  });
});

describe('live events in the thread list', () => {
  it('move the thread to the top and count a new message once', () => {
    let state = withList([summary('+1', 300), summary(FRIEND, 200, 5)]);
    const live = {
      type: 'live',
      event: 'message.created',
      message: message({ sentAt: 400 }),
    } as const;
    state = inboxReducer(inboxReducer(state, live), live);
    expect(state.list.items.map((item) => item.counterpart)).toEqual([FRIEND, '+1']);
    expect(state.list.items[0]).toMatchObject({
      messageCount: 6,
      lastMessage: { uuid: 'u1', timestamp: 400 },
    });
  });

  it('update the status of the last message without counting it', () => {
    let state = withList([summary(FRIEND, 100, 5)]);
    state = inboxReducer(state, {
      type: 'live',
      event: 'message.updated',
      message: message({
        uuid: `last-${FRIEND}`,
        direction: 'sent',
        senderPhone: ME,
        receiverPhone: FRIEND,
        status: 'delivered',
      }),
    });
    expect(state.list.items[0]).toMatchObject({
      messageCount: 5,
      lastMessage: { status: 'delivered', timestamp: 100 },
    });
  });

  it('reach the open thread of that counterpart only', () => {
    let state = inboxReducer(withList([]), { type: 'thread/open', counterpart: FRIEND });
    state = inboxReducer(state, { type: 'live', event: 'message.created', message: message() });
    state = inboxReducer(state, {
      type: 'live',
      event: 'message.created',
      message: message({ uuid: 'other', senderPhone: '+12025550199' }),
    });
    expect(state.thread?.messages.map((m) => m.uuid)).toEqual(['u1']);
  });
});
