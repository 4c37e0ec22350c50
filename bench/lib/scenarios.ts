// What each scenario sends. Every request is built fresh by autocannon's
// setupRequest (random number, fresh uuid), so no two sends share a uuid and
// reads spread over the whole dataset.
import { randomUUID } from 'node:crypto';
import type { AutocannonRequest } from 'autocannon';
import { type Dataset, phoneOf, randomPair, slotOffsets } from './dataset.js';
import { deliverText, type SentMessage } from './deliver.js';

export const IMPORT_BATCH = 1000;

export type ScenarioName =
  | 'read-conversation'
  | 'read-thread'
  | 'threads'
  | 'search'
  | 'send'
  | 'mixed'
  | 'import'
  | 'deliver';
/** The scenarios that put one server under autocannon (deliver runs two instances and an SMSC). */
export type HttpScenarioName = Exclude<ScenarioName, 'deliver'>;
export type ScenarioKind = 'read' | 'search' | 'send' | 'mixed' | 'import' | 'deliver';

/** kind: which target applies. baseline: what the baseline runs next to it (null: nothing). */
export const SCENARIOS: Record<
  ScenarioName,
  { kind: ScenarioKind; baseline: HttpScenarioName | null }
> = {
  'read-conversation': { kind: 'read', baseline: 'read-conversation' },
  // The baseline has no thread endpoints: its conversation read stands in.
  'read-thread': { kind: 'read', baseline: 'read-conversation' },
  threads: { kind: 'read', baseline: 'read-conversation' },
  // No floor: the seed has no search. Its target is flatness (run.ts --flatness).
  search: { kind: 'search', baseline: null },
  send: { kind: 'send', baseline: 'send' },
  mixed: { kind: 'mixed', baseline: 'mixed' },
  import: { kind: 'import', baseline: null },
  // POST /api/messages to submit_sm at an SMSC, two instances: run by runDeliver in run.ts.
  deliver: { kind: 'deliver', baseline: null },
};

/** Run in this order: reads first, then what grows the table, the bulk import, then deliver. */
export const SCENARIO_ORDER = Object.keys(SCENARIOS) as ScenarioName[];

const encode = (phone: string): string => encodeURIComponent(phone);

/**
 * What the search scenario looks for, over the dataset's texts ("Bench message
 * <i>: running 10 minutes late, see you soon"): words every message of a
 * number has (so all ~200 are ranked), a prefix, a phrase, and digits that
 * match a few messages or none.
 */
export const SEARCH_QUERIES = ['late', 'runn', '"see you soon"', 'minutes late', '4242', 'cafe'];

/** The requests of one scenario; `headers` (the API key) go on every request. */
export function scenarioRequests(
  name: HttpScenarioName,
  dataset: Dataset,
  headers: Record<string, string>,
): AutocannonRequest[] {
  const { numbers } = dataset;
  const offsets = slotOffsets(numbers);
  const randomNumber = (): string => phoneOf(Math.floor(Math.random() * numbers));
  const now = (): number => Math.floor(Date.now() / 1000);
  let sent = 0;

  // Fresh headers each time: autocannon adds Content-Length to the object it gets.
  const get = (request: AutocannonRequest, path: string): AutocannonRequest => {
    request.method = 'GET';
    request.path = path;
    request.headers = { ...headers };
    request.body = undefined;
    return request;
  };
  const post = (request: AutocannonRequest, path: string, body: unknown): AutocannonRequest => {
    request.method = 'POST';
    request.path = path;
    request.headers = { ...headers, 'content-type': 'application/json' };
    request.body = JSON.stringify(body);
    return request;
  };
  const conversation = (request: AutocannonRequest): AutocannonRequest =>
    get(request, `/api/get-conversation/${encode(randomNumber())}`);
  const sendSms = (request: AutocannonRequest): AutocannonRequest => {
    const [a, b] = randomPair(numbers, offsets);
    sent += 1;
    return post(request, '/api/send-sms', {
      senderPhone: phoneOf(a),
      receiverPhone: phoneOf(b),
      messageText: `Bench send ${sent}: on my way, see you in 5`,
      timestamp: now(),
      uuid: randomUUID(),
    });
  };

  const builders: Record<HttpScenarioName, (request: AutocannonRequest) => AutocannonRequest> = {
    'read-conversation': conversation,
    'read-thread': (request) => {
      const [a, b] = randomPair(numbers, offsets);
      return get(
        request,
        `/api/phones/${encode(phoneOf(a))}/conversations/${encode(phoneOf(b))}/messages`,
      );
    },
    threads: (request) => get(request, `/api/phones/${encode(randomNumber())}/conversations`),
    search: (request) => {
      const q = SEARCH_QUERIES[Math.floor(Math.random() * SEARCH_QUERIES.length)];
      return get(
        request,
        `/api/phones/${encode(randomNumber())}/search?q=${encodeURIComponent(q)}&limit=20`,
      );
    },
    send: sendSms,
    mixed: (request) => (Math.random() < 0.1 ? sendSms(request) : conversation(request)),
    // One phone syncing its backlog: its sends and receipts with its own
    // counterparts, at past times, every uuid new.
    import: (request) => {
      const owner = Math.floor(Math.random() * numbers);
      const start = now() - 30 * 24 * 3600;
      const events = Array.from({ length: IMPORT_BATCH }, (_, index) => {
        const offset = offsets[Math.floor(Math.random() * offsets.length)];
        const other =
          Math.random() < 0.5 ? (owner + offset) % numbers : (owner - offset + numbers) % numbers;
        const outgoing = Math.random() < 0.5;
        return {
          type: outgoing ? 'sent' : 'received',
          senderPhone: phoneOf(outgoing ? owner : other),
          receiverPhone: phoneOf(outgoing ? other : owner),
          messageText: `Imported message ${index} of a backlog`,
          timestamp: start + index * 60,
          uuid: randomUUID(),
        };
      });
      return post(request, '/api/messages/import', { events });
    },
  };
  return [{ setupRequest: builders[name] }];
}

/**
 * The deliver scenario's requests: POST /api/messages from `from` to a random
 * number of the dataset, each with a fresh uuid and `deliverText(tag, n)`, n
 * counting from sent.length. Each is appended to `sent` when built, and its 202
 * time set when the answer arrives (matched by the uuid in the answer).
 */
export function deliverRequests(args: {
  from: string;
  dataset: Dataset;
  headers: Record<string, string>;
  tag: string;
  sent: SentMessage[];
}): AutocannonRequest[] {
  const { from, dataset, headers, tag, sent } = args;
  const byUuid = new Map<string, number>();
  return [
    {
      setupRequest: (request) => {
        const n = sent.length;
        const uuid = randomUUID();
        byUuid.set(uuid, n);
        sent.push({ n, sentAt: Date.now(), acceptedAt: null });
        request.method = 'POST';
        request.path = '/api/messages';
        request.headers = { ...headers, 'content-type': 'application/json' };
        request.body = JSON.stringify({
          from,
          to: phoneOf(Math.floor(Math.random() * dataset.numbers)),
          text: deliverText(tag, n),
          uuid,
        });
        return request;
      },
      onResponse: (status, body) => {
        if (status !== 202) return;
        const at = Date.now();
        try {
          const { uuid } = JSON.parse(String(body)) as { uuid?: string };
          const n = uuid === undefined ? undefined : byUuid.get(uuid);
          if (n === undefined) return;
          byUuid.delete(uuid!);
          sent[n].acceptedAt = at;
        } catch {
          // not JSON: counted as not accepted
        }
      },
    },
  ];
}

export interface Probe {
  ok: boolean;
  status: number;
  shape: string;
  excerpt?: string;
}

/**
 * What is wrong with a get-conversation answer, or null: the seed contract's
 * `{messages: [{phone_number, message_text, timestamp, direction}]}`, oldest
 * first. Catches a floor (or the app) that answers 200 with the wrong body.
 */
export function conversationShapeError(body: unknown): string | null {
  const messages = (body as { messages?: unknown } | null)?.messages;
  if (!Array.isArray(messages)) return 'no messages array';
  let previous = -Infinity;
  for (const [index, message] of (messages as Array<Record<string, unknown>>).entries()) {
    const where = `messages[${index}]`;
    if (typeof message?.phone_number !== 'string' || !message.phone_number.startsWith('+')) {
      return `${where}.phone_number is ${JSON.stringify(message?.phone_number)}`;
    }
    if (typeof message.message_text !== 'string') return `${where}.message_text is not a string`;
    if (typeof message.timestamp !== 'number' || !Number.isFinite(message.timestamp)) {
      return `${where}.timestamp is ${JSON.stringify(message.timestamp)}`;
    }
    if (message.timestamp < previous) return `${where} is older than the one before it`;
    previous = message.timestamp;
    if (message.direction !== 'sent' && message.direction !== 'received') {
      return `${where}.direction is ${JSON.stringify(message.direction)}`;
    }
  }
  return null;
}

/**
 * One request of the scenario through fetch, to fail fast (and say why) when
 * the target answers anything but 2xx, or a get-conversation or send-sms
 * answer not in the contract's shape.
 */
export async function probeScenario(
  name: HttpScenarioName,
  dataset: Dataset,
  headers: Record<string, string>,
  baseUrl: string,
): Promise<Probe> {
  const [{ setupRequest }] = scenarioRequests(name, dataset, headers);
  const request = setupRequest!({}, {});
  const path = request.path ?? '/';
  const response = await fetch(baseUrl + path, {
    method: request.method,
    headers: request.headers,
    body: typeof request.body === 'string' ? request.body : undefined,
    signal: AbortSignal.timeout(30_000),
  });
  const text = await response.text();
  let ok = response.status >= 200 && response.status < 300;
  let shape: string;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    let wrong: string | null = null;
    if (path.startsWith('/api/get-conversation/')) wrong = conversationShapeError(body);
    else if (path === '/api/send-sms' && typeof body.message !== 'string') {
      wrong = 'no message';
    }
    if (ok && wrong) {
      ok = false;
      shape = `wrong shape: ${wrong}`;
    } else if (Array.isArray(body.messages)) shape = `${body.messages.length} messages`;
    else if (Array.isArray(body.conversations)) shape = `${body.conversations.length} threads`;
    else if (body.counts) shape = JSON.stringify(body.counts);
    else shape = typeof body.message === 'string' ? body.message : '';
  } catch {
    ok = false;
    shape = 'not JSON';
  }
  return { ok, status: response.status, shape, excerpt: ok ? undefined : text.slice(0, 300) };
}
