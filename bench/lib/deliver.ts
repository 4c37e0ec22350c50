// The deliver scenario's arithmetic: which submit_sm at the SMSC is which
// POST /api/messages, the rates in the measured window, the queue's added
// latency and the backlog. Pure functions, so that lib/deliver.spec.ts covers them.

/** One POST /api/messages the load generator sent; `n` is its index and the id in its text. */
export interface SentMessage {
  n: number;
  /** When the request was built and written (ms since the epoch). */
  sentAt: number;
  /** When its 202 arrived; null without one (error, timeout, other status). */
  acceptedAt: number | null;
}

/** A submit_sm as the SMSC recorded it. */
export interface Submit {
  text: string;
  /** When it arrived at the SMSC (ms since the epoch, the same clock: one machine). */
  at: number;
}

export interface Distribution {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface DeliveryAnalysis {
  /** The measured window, ms since the epoch, and its length in seconds. */
  window: { start: number; end: number; seconds: number };
  /** 202s whose answer arrived in the window. */
  accepted: number;
  /** submit_sm of this run that arrived at the SMSC in the window. */
  submitted: number;
  acceptedPerSecond: number;
  submitsPerSecond: number;
  /** Accepted by then and not yet at the SMSC, at the window's start and end. */
  backlogAtStart: number;
  backlogAtEnd: number;
  /** From the 202 to the first submit_sm, for the messages accepted in the window (ms). */
  queueLatency: Distribution;
  /** From the request's sending to the first submit_sm, same messages (ms). */
  endToEnd: Distribution;
  /** From the request's sending to its 202, same messages (ms). */
  post: Distribution;
  /** submit_sm beyond the first of a message (should be 0). */
  duplicates: number;
  /** Messages with a 202 (at any time of the run) that never reached the SMSC. */
  neverSubmitted: number;
  /** submit_sm of this run whose id matches no message sent. */
  unknown: number;
}

/** The text of message `n` of the run tagged `tag`. */
export const deliverText = (tag: string, n: number): string => `Bench deliver ${tag} #${n}`;

/** The `n` of a text made by deliverText with `tag`; null for any other text. */
export function deliverIndex(tag: string, text: string): number | null {
  const prefix = `Bench deliver ${tag} #`;
  if (!text.startsWith(prefix)) return null;
  const rest = text.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : null;
}

/** The `p`th percentile (0–100) of ascending `sorted` values, nearest rank; NaN when empty. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function distribution(values: readonly number[]): Distribution {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : NaN,
  };
}

/**
 * Matches the SMSC's submits to the messages sent (by the id in the text) and
 * measures the window [start, end]: what was accepted, what arrived at the
 * SMSC, what was left waiting at either end, and each message's wait.
 */
export function analyzeDeliveries(
  sent: readonly SentMessage[],
  submits: readonly Submit[],
  tag: string,
  window: { start: number; end: number },
): DeliveryAnalysis {
  const firstAt = new Map<number, number>();
  let duplicates = 0;
  let unknown = 0;
  let submitted = 0;
  for (const submit of submits) {
    const n = deliverIndex(tag, submit.text);
    if (n === null) continue;
    if (submit.at > window.start && submit.at <= window.end) submitted += 1;
    if (n >= sent.length || sent[n]?.n !== n) {
      unknown += 1;
      continue;
    }
    const first = firstAt.get(n);
    if (first === undefined) firstAt.set(n, submit.at);
    else {
      duplicates += 1;
      if (submit.at < first) firstAt.set(n, submit.at);
    }
  }
  const waitingAt = (t: number): number =>
    sent.filter((message) => {
      if (message.acceptedAt === null || message.acceptedAt > t) return false;
      const at = firstAt.get(message.n);
      return at === undefined || at > t;
    }).length;
  const inWindow = sent.filter(
    (message) =>
      message.acceptedAt !== null &&
      message.acceptedAt > window.start &&
      message.acceptedAt <= window.end,
  );
  const queue: number[] = [];
  const endToEnd: number[] = [];
  for (const message of inWindow) {
    const at = firstAt.get(message.n);
    if (at === undefined) continue;
    queue.push(at - message.acceptedAt!);
    endToEnd.push(at - message.sentAt);
  }
  const seconds = (window.end - window.start) / 1000;
  return {
    window: { ...window, seconds },
    accepted: inWindow.length,
    submitted,
    acceptedPerSecond: seconds > 0 ? inWindow.length / seconds : NaN,
    submitsPerSecond: seconds > 0 ? submitted / seconds : NaN,
    backlogAtStart: waitingAt(window.start),
    backlogAtEnd: waitingAt(window.end),
    queueLatency: distribution(queue),
    endToEnd: distribution(endToEnd),
    post: distribution(inWindow.map((message) => message.acceptedAt! - message.sentAt)),
    duplicates,
    neverSubmitted: sent.filter((message) => message.acceptedAt !== null && !firstAt.has(message.n))
      .length,
    unknown,
  };
}
