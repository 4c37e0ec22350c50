import {
  inboxReducer,
  initialInbox,
  type InboxState,
  newer,
  upsertMessage,
  type UiMessage,
} from './inbox-state.js';
import type { ConversationSummary, Status, ThreadMessage } from './types.js';

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

  it('follows a sent message forward: queued, sending, sent, delivered', () => {
    let list: UiMessage[] = [message({ direction: 'sent', status: 'queued' })];
    for (const status of ['sending', 'sent', 'delivered'] as const) {
      list = upsertMessage(list, message({ direction: 'sent', status }));
      expect(list[0].status).toBe(status);
    }
  });

  it('never lets a late event take a message back, nor change how it ended', () => {
    const cases: Array<[Status, Status]> = [
      ['sending', 'queued'],
      ['sent', 'queued'],
      ['sent', 'sending'],
      ['delivered', 'sent'],
      ['delivered', 'failed'],
      ['delivered', 'queued'],
      ['failed', 'sending'],
      ['failed', 'sent'],
      ['failed', 'delivered'],
    ];
    for (const [current, late] of cases) {
      const shown = [message({ direction: 'sent', status: current })];
      expect(
        upsertMessage(shown, message({ direction: 'sent', status: late })),
        `${current} ← ${late}`,
      ).toBe(shown);
    }
  });

  it('lets a failed message be queued again (a retry), and go on from there', () => {
    const failed = message({ direction: 'sent', status: 'failed' });
    expect(newer(failed, { ...failed, status: 'queued' })).toBe(true);
    let list: UiMessage[] = upsertMessage([failed], { ...failed, status: 'queued' });
    expect(list[0].status).toBe('queued');
    list = upsertMessage(list, { ...failed, status: 'sent' });
    list = upsertMessage(list, { ...failed, status: 'delivered' });
    expect(list[0].status).toBe('delivered');
    // It may fail again, too.
    expect(newer({ ...failed, status: 'sent' }, failed)).toBe(true);
  });

  it('takes a repeat of the same status (its other fields may have changed)', () => {
    const shown = [message({ direction: 'sent', status: 'sent' })];
    const receipt = message({ direction: 'sent', status: 'sent', receivedAt: 104 });
    expect(upsertMessage(shown, receipt)[0].receivedAt).toBe(104);
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

describe('sending from the page', () => {
  const mine = (overrides: Partial<UiMessage> = {}): UiMessage => ({
    ...message({ direction: 'sent', senderPhone: ME, receiverPhone: FRIEND, status: 'queued' }),
    ...overrides,
  });
  const opened = () => {
    const state = inboxReducer(withList([]), { type: 'thread/open', counterpart: FRIEND });
    return inboxReducer(state, {
      type: 'thread/loaded',
      counterpart: FRIEND,
      page: { messages: [], nextCursor: null, optOut: null },
      older: false,
    });
  };

  it('shows the message queued at once, then follows the live stream', () => {
    let state = inboxReducer(opened(), {
      type: 'send/started',
      message: mine({ local: 'sending' }),
    });
    expect(state.thread?.messages[0]).toMatchObject({ status: 'queued', local: 'sending' });
    state = inboxReducer(state, { type: 'send/done', uuid: 'u1', status: 'queued', queued: true });
    expect(state.thread?.messages[0].local).toBeUndefined();
    for (const status of ['sent', 'delivered'] as const) {
      state = inboxReducer(state, {
        type: 'live',
        event: 'message.updated',
        message: mine({ status }),
      });
    }
    expect(state.thread?.messages[0].status).toBe('delivered');
  });

  it('keeps a status the stream brought before the answer', () => {
    let state = inboxReducer(opened(), {
      type: 'send/started',
      message: mine({ local: 'sending' }),
    });
    state = inboxReducer(state, {
      type: 'live',
      event: 'message.updated',
      message: mine({ status: 'sent' }),
    });
    state = inboxReducer(state, { type: 'send/done', uuid: 'u1', status: 'queued', queued: true });
    expect(state.thread?.messages[0].status).toBe('sent');
  });

  it('retries a failed message: back to queued, its old reason forgotten', () => {
    let state = inboxReducer(opened(), {
      type: 'live',
      event: 'message.created',
      message: mine({ status: 'failed' }),
    });
    state = inboxReducer(state, {
      type: 'failure/read',
      uuid: 'u1',
      failure: { code: 'ESME_RINVDSTADR', reason: 'refused: ESME_RINVDSTADR' },
    });
    expect(state.failures.u1?.code).toBe('ESME_RINVDSTADR');
    state = inboxReducer(state, { type: 'send/started', message: mine({ local: 'sending' }) });
    expect(state.thread?.messages[0]).toMatchObject({ status: 'queued', local: 'sending' });
    expect(state.failures.u1).toBeUndefined();
    state = inboxReducer(state, { type: 'send/done', uuid: 'u1', status: 'queued', queued: true });
    state = inboxReducer(state, {
      type: 'live',
      event: 'message.updated',
      message: mine({ status: 'delivered' }),
    });
    expect(state.thread?.messages[0].status).toBe('delivered');
  });

  it('a known uuid (200) takes the answered status only when it is news', () => {
    let state = inboxReducer(opened(), {
      type: 'live',
      event: 'message.created',
      message: mine({ status: 'delivered' }),
    });
    state = inboxReducer(state, { type: 'send/started', message: mine({ local: 'sending' }) });
    state = inboxReducer(state, { type: 'send/done', uuid: 'u1', status: 'delivered' });
    expect(state.thread?.messages[0]).toMatchObject({ status: 'delivered' });
    expect(state.thread?.messages[0].local).toBeUndefined();
  });

  it('keeps a refused message with why, until it is recorded', () => {
    let state = inboxReducer(opened(), {
      type: 'send/started',
      message: mine({ local: 'sending' }),
    });
    state = inboxReducer(state, {
      type: 'send/failed',
      uuid: 'u1',
      error: 'no outbound gateway',
      refused: 'from',
    });
    expect(state.thread?.messages[0]).toMatchObject({ local: 'failed', refused: 'from' });
    state = inboxReducer(state, {
      type: 'send/started',
      message: mine({ status: 'sent', local: 'recording', refused: undefined }),
    });
    state = inboxReducer(state, { type: 'send/done', uuid: 'u1', status: 'sent' });
    const recorded = state.thread?.messages[0];
    expect(recorded).toMatchObject({ status: 'sent' });
    expect(recorded?.local).toBeUndefined();
    expect(recorded?.refused).toBeUndefined();
  });

  it("tells the thread's opt-out from its newest page only", () => {
    const optOut = { keyword: 'STOP' as const, since: 1_764_072_000 };
    let state = inboxReducer(withList([]), { type: 'thread/open', counterpart: FRIEND });
    state = inboxReducer(state, {
      type: 'thread/loaded',
      counterpart: FRIEND,
      page: { messages: [], nextCursor: 'older', optOut },
      older: false,
    });
    expect(state.thread?.optOut).toEqual(optOut);
    state = inboxReducer(state, {
      type: 'thread/loaded',
      counterpart: FRIEND,
      page: { messages: [], nextCursor: null, optOut: null },
      older: true,
    });
    expect(state.thread?.optOut).toEqual(optOut);
  });
});
