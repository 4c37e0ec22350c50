import { request as httpRequest } from 'node:http';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startTopology, type Topology, UPSTREAM_HEADER } from '../../deploy/local/topology.js';
import { buildSmsEvent, randomPhone, type SmsEventBody } from '../factories/sms-event.factory.js';

/**
 * The deployment of issue 13 on this machine, with its real parts
 * (deploy/local, `npm run topology`): nginx round-robin over 3 instances, a
 * PostgreSQL primary with a streaming replica, PgBouncer in transaction mode,
 * Redis for the shared limits. Run by `npm run test:topology` (.ci/run).
 */
const THROTTLE_LIMIT = 1_000;
const AUTH_FAILURE_LIMIT = 10;
/** The replica's documented staleness bound under the send load (README, "Beyond one machine"). */
const STALENESS_BOUND_MS = 1_000;

interface Answer {
  status: number;
  body: string;
  upstream: string;
}

describe('The topology: nginx, 3 instances, primary + replica, PgBouncer, Redis (e2e)', () => {
  let topology: Topology;
  let primary: pg.Client;
  let replica: pg.Client;

  beforeAll(async () => {
    topology = await startTopology({
      instances: 3,
      adapter: (process.env.HTTP_ADAPTER as 'express' | 'fastify' | undefined) ?? 'fastify',
      env: {
        THROTTLE_LIMIT: String(THROTTLE_LIMIT),
        AUTH_FAILURE_LIMIT: String(AUTH_FAILURE_LIMIT),
        LOG_LEVEL: 'warn',
      },
      log: () => undefined,
    });
    primary = new pg.Client({ connectionString: topology.primaryUrl });
    replica = new pg.Client({ connectionString: topology.replicaUrl });
    // The replica test stops the replica under this client: that is expected, not a crash.
    replica.on('error', () => undefined);
    await primary.connect();
    await replica.connect();
  }, 180_000);

  afterAll(async () => {
    await primary?.end();
    await replica?.end().catch(() => undefined);
    await topology?.stop();
  }, 120_000);

  /** One request through nginx, from `localAddress` (127.0.0.1 unless given). */
  const call = (
    method: string,
    path: string,
    options: { authorization?: string; body?: unknown; localAddress?: string } = {},
  ): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
      const url = new URL(path, topology.baseUrl);
      const outgoing = httpRequest(
        url,
        {
          method,
          localAddress: options.localAddress,
          headers: {
            ...(options.authorization ? { Authorization: options.authorization } : {}),
            ...(payload ? { 'Content-Type': 'application/json' } : {}),
          },
          agent: false,
        },
        (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('error', reject);
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () =>
            resolve({
              status: response.statusCode ?? 0,
              body,
              upstream: String(response.headers[UPSTREAM_HEADER] ?? ''),
            }),
          );
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  const admin = () => `Bearer ${topology.adminKey}`;
  /** A phone key of its own for each test, so each counts against its own limit. */
  const phoneKey = async (phones: string[]): Promise<string> => {
    const issued = await call('POST', '/api/keys', {
      authorization: admin(),
      body: { label: 'topology test', phones },
    });
    expect(issued.status).toBe(201);
    return `Bearer ${(JSON.parse(issued.body) as { key: string }).key}`;
  };
  const sendSms = (authorization: string, event: SmsEventBody) =>
    call('POST', '/api/send-sms', { authorization, body: event });
  const portOf = (upstream: string) => upstream.split(',').at(-1)?.trim().split(':').at(-1);
  /** Runs `work` with `concurrency` workers until each has returned false. */
  const workers = (concurrency: number, work: () => Promise<boolean>) =>
    Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (await work());
      }),
    );

  it('delivers a message sent through nginx to one instance on a stream held through nginx on another', async () => {
    const owner = randomPhone();
    const key = await phoneKey([owner]);
    const stream = await openStream(
      topology.baseUrl,
      `/api/phones/${encodeURIComponent(owner)}/events`,
      key,
    );
    try {
      await stream.next('ready');
      // Round-robin: keep sending until a send lands on another instance than the stream.
      let sentVia: string | undefined;
      let event: SmsEventBody | undefined;
      for (let attempt = 0; attempt < 6 && !sentVia; attempt += 1) {
        event = buildSmsEvent({ senderPhone: owner, receiverPhone: randomPhone() });
        const sent = await sendSms(key, event);
        expect(sent.status).toBe(201);
        if (portOf(sent.upstream) !== portOf(stream.upstream)) sentVia = sent.upstream;
        else await stream.next('message.created');
      }
      expect(sentVia, 'no send reached another instance than the stream').toBeDefined();

      const delivered = JSON.parse(await stream.next('message.created')) as { uuid: string };
      expect(delivered.uuid).toBe(event!.uuid);
    } finally {
      stream.close();
    }
  });

  it('holds one key to one limit across the 3 instances (Redis)', async () => {
    const owner = randomPhone();
    const key = await phoneKey([owner]);
    const statuses: number[] = [];
    const upstreams = new Set<string>();
    let left = THROTTLE_LIMIT + 60;
    await workers(16, async () => {
      if (left-- <= 0) return false;
      const read = await call('GET', `/api/get-conversation/${encodeURIComponent(owner)}`, {
        authorization: key,
      });
      statuses.push(read.status);
      upstreams.add(portOf(read.upstream)!);
      return true;
    });

    expect(upstreams.size).toBe(3);
    expect(statuses.filter((status) => status === 200)).toHaveLength(THROTTLE_LIMIT);
    expect(statuses.filter((status) => status === 429)).toHaveLength(60);
  });

  it('counts failed authentications per client address behind nginx (TRUST_PROXY), on every instance', async () => {
    const guess = (localAddress: string) =>
      call('GET', '/api/keys', { authorization: `Bearer sms_${randomUUID()}`, localAddress });
    const answers: Answer[] = [];
    for (let attempt = 0; attempt < AUTH_FAILURE_LIMIT + 2; attempt += 1) {
      answers.push(await guess('127.0.0.5'));
    }

    expect(new Set(answers.map((answer) => portOf(answer.upstream))).size).toBe(3);
    expect(answers.slice(0, AUTH_FAILURE_LIMIT).map((answer) => answer.status)).toEqual(
      Array(AUTH_FAILURE_LIMIT).fill(401),
    );
    expect(answers.slice(AUTH_FAILURE_LIMIT).map((answer) => answer.status)).toEqual([429, 429]);
    // Another client is not blocked by the first: nginx's own address is not what is counted.
    expect((await guess('127.0.0.6')).status).toBe(401);
  });

  it('serves reads from the replica that return what the primary wrote, within the staleness bound', async () => {
    const owner = randomPhone();
    const key = await phoneKey([owner]);
    const sessionsBefore = await replicaReadSessions(replica);
    const visibleAfterMs: number[] = [];
    for (let index = 0; index < 20; index += 1) {
      const event = buildSmsEvent({ senderPhone: owner, receiverPhone: randomPhone() });
      expect((await sendSms(key, event)).status).toBe(201);
      const sentAt = performance.now();
      for (;;) {
        const read = await call('GET', `/api/get-conversation/${encodeURIComponent(owner)}`, {
          authorization: key,
        });
        expect(read.status).toBe(200);
        const { messages } = JSON.parse(read.body) as { messages: unknown[] };
        if (messages.length === index + 1) break;
        expect(performance.now() - sentAt).toBeLessThan(STALENESS_BOUND_MS);
      }
      visibleAfterMs.push(performance.now() - sentAt);
    }

    // The reads were the replica's: the instances hold read sessions on it.
    expect(await replicaReadSessions(replica)).toBeGreaterThanOrEqual(Math.max(1, sessionsBefore));
    for (const instance of topology.instances) {
      const ready = await fetch(`${instance.url}/api/health/ready`);
      const body = (await ready.json()) as { info: { replicas: { replicas: unknown[] } } };
      expect(body.info.replicas.replicas).toEqual([
        expect.objectContaining({ serving: true, lagSeconds: expect.any(Number) }),
      ]);
    }
    console.log(
      `[topology] a send is visible on the replica's reads after at most ${Math.max(...visibleAfterMs).toFixed(1)} ms (median ${median(visibleAfterMs).toFixed(1)} ms)`,
    );
  });

  it('keeps the replica within the staleness bound under a send load', async () => {
    const senders = Array.from({ length: 8 }, () => randomPhone());
    const key = await phoneKey(senders);
    let left = 600;
    let sending = true;
    const lagsMs: number[] = [];
    const sampling = (async () => {
      while (sending) {
        const { rows } = await primary.query<{ lag_ms: number | null }>(
          `SELECT (extract(epoch FROM replay_lag) * 1000)::float8 AS lag_ms FROM pg_stat_replication`,
        );
        lagsMs.push(rows[0]?.lag_ms ?? 0);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    const started = performance.now();
    await workers(32, async () => {
      if (left-- <= 0) return false;
      const sender = senders[left % senders.length];
      const sent = await sendSms(
        key,
        buildSmsEvent({ senderPhone: sender, receiverPhone: randomPhone() }),
      );
      expect(sent.status).toBe(201);
      return true;
    });
    const seconds = (performance.now() - started) / 1000;
    sending = false;
    await sampling;

    expect(lagsMs.length).toBeGreaterThan(3);
    expect(Math.max(...lagsMs)).toBeLessThan(STALENESS_BOUND_MS);
    console.log(
      `[topology] 600 sends in ${seconds.toFixed(1)} s (${(600 / seconds).toFixed(0)}/s); replica replay lag: max ${Math.max(...lagsMs).toFixed(1)} ms, median ${median(lagsMs).toFixed(1)} ms over ${lagsMs.length} samples`,
    );
  });

  it('loses and duplicates nothing when an instance is killed -9 under a send load, and nginx stops routing to it', async () => {
    const senders = Array.from({ length: 8 }, () => randomPhone());
    const key = await phoneKey(senders);
    const victim = topology.instances[1];
    const victimPort = String(victim.port);
    const total = 800;
    const acknowledged = new Set<string>();
    const failedAttempts: string[] = [];
    const upstreamsAfterKill: Array<{ afterMs: number; upstream: string }> = [];
    let next = 0;
    let killedAt: number | undefined;
    let killing: Promise<void> | undefined;

    await workers(16, async () => {
      if (next >= total) return false;
      const index = next++;
      const event = buildSmsEvent({
        senderPhone: senders[index % senders.length],
        receiverPhone: randomPhone(),
      });
      // A client retries the same request (same uuid) until it is acknowledged.
      for (let attempt = 0; ; attempt += 1) {
        if (index === 200 && attempt === 0)
          killing = victim.kill('SIGKILL').then(() => void (killedAt = performance.now()));
        const sent = await sendSms(key, event).catch((error: Error) => ({
          status: 0,
          body: error.message,
          upstream: '',
        }));
        if (killedAt !== undefined) {
          upstreamsAfterKill.push({
            afterMs: performance.now() - killedAt,
            upstream: sent.upstream,
          });
        }
        // 201, or 200 when an earlier attempt was stored but its answer was lost.
        if (sent.status === 201 || sent.status === 200) {
          acknowledged.add(event.uuid);
          return true;
        }
        failedAttempts.push(`${sent.status} ${sent.upstream}`);
        if (attempt > 20)
          throw new Error(
            `${event.uuid} never acknowledged: ${failedAttempts.slice(-3).join('; ')}`,
          );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    });
    await killing;

    expect(acknowledged.size).toBe(total);
    const { rows } = await primary.query<{ count: string; distinct: string }>(
      `SELECT count(*) AS count, count(DISTINCT uuid) AS distinct FROM messages WHERE sender_phone = ANY($1)`,
      [senders],
    );
    // 0 lost: every acknowledged message is stored; 0 duplicated: once each.
    expect(Number(rows[0].count)).toBe(total);
    expect(Number(rows[0].distinct)).toBe(total);
    const stored = await primary.query<{ uuid: string }>(
      'SELECT uuid FROM messages WHERE uuid = ANY($1)',
      [[...acknowledged]],
    );
    expect(stored.rowCount).toBe(total);
    // nginx took the dead instance out: past the first few requests after the kill, none was
    // sent to it until its fail_timeout (5 s), when nginx tries it once again.
    const laterUpstreams = upstreamsAfterKill
      .slice(32)
      .filter(({ afterMs }) => afterMs < 4_500)
      .map(({ upstream }) => upstream);
    expect(laterUpstreams.length).toBeGreaterThan(100);
    expect(laterUpstreams.filter((upstream) => upstream.includes(`:${victimPort}`))).toEqual([]);
    console.log(
      `[topology] kill -9 under load: ${total} acknowledged, ${total} stored once each; ${failedAttempts.length} failed attempts retried (${[...new Set(failedAttempts.map((attempt) => attempt.split(' ')[0]))].join(', ') || 'none'})`,
    );

    await victim.restart();
  });

  it('answers every read from the primary while the replica is stopped, and uses it again once back', async () => {
    const owner = randomPhone();
    const key = await phoneKey([owner]);
    for (let index = 0; index < 5; index += 1) {
      expect(
        (await sendSms(key, buildSmsEvent({ senderPhone: owner, receiverPhone: randomPhone() })))
          .status,
      ).toBe(201);
    }
    // Several keys of the same number, so that the load stays under each key's rate limit.
    const keys = [key, ...(await Promise.all([1, 2, 3].map(() => phoneKey([owner]))))];
    const statuses: number[] = [];
    const counts = new Set<number>();
    let reading = true;
    let reads = 0;
    const load = workers(4, async () => {
      if (!reading) return false;
      const read = await call('GET', `/api/get-conversation/${encodeURIComponent(owner)}`, {
        authorization: keys[reads++ % keys.length],
      });
      statuses.push(read.status);
      if (read.status === 200)
        counts.add((JSON.parse(read.body) as { messages: unknown[] }).messages.length);
      await new Promise((resolve) => setTimeout(resolve, 10));
      return true;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    await topology.stopReplica();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const duringOutage = statuses.length;
    await topology.startReplica();
    const deadline = Date.now() + 30_000;
    for (;;) {
      const states = await Promise.all(
        topology.instances.map(async (instance) => {
          const body = (await (await fetch(`${instance.url}/api/health/ready`)).json()) as {
            info: { replicas: { replicas: Array<{ serving: boolean }> } };
          };
          return body.info.replicas.replicas[0].serving;
        }),
      );
      if (states.every(Boolean)) break;
      if (Date.now() > deadline)
        throw new Error('the instances did not use the replica again within 30 s');
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    reading = false;
    await load;

    expect(duringOutage).toBeGreaterThan(50);
    // Not one error: a read whose replica fails runs again on the primary within the same request.
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
    expect([...counts]).toEqual([5]);
    await replica.end().catch(() => undefined);
    replica = new pg.Client({ connectionString: topology.replicaUrl });
    replica.on('error', () => undefined);
    await replica.connect();
    // Reads went back to it.
    expect(await replicaReadSessions(replica)).toBeGreaterThan(0);
  });
});

/** The app's read sessions on the replica (application_name of its replica pools). */
async function replicaReadSessions(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ count: string }>(
    `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'sms-service-reads'`,
  );
  return Number(rows[0].count);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

/** A server-sent-events stream: `next(name)` resolves with the data of the next event of that name. */
async function openStream(baseUrl: string, path: string, authorization: string) {
  const controller = new AbortController();
  const response = await fetch(new URL(path, baseUrl), {
    headers: { Authorization: authorization, Accept: 'text/event-stream' },
    signal: controller.signal,
  });
  expect(response.status).toBe(200);
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const events: Array<{ name: string; data: string }> = [];
  const next = async (name: string, timeoutMs = 10_000): Promise<string> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = events.findIndex((event) => event.name === name);
      if (found !== -1) return events.splice(0, found + 1)[found].data;
      if (Date.now() > deadline) throw new Error(`no ${name} event within ${timeoutMs} ms`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before a ${name} event`);
      buffer += value;
      let end: number;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const lines = block.split('\n');
        const eventName =
          lines
            .find((line) => line.startsWith('event:'))
            ?.slice(6)
            .trim() ?? 'message';
        const data = lines
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (lines.some((line) => !line.startsWith(':'))) events.push({ name: eventName, data });
      }
    }
  };
  return {
    upstream: response.headers.get(UPSTREAM_HEADER) ?? '',
    next,
    close: () => controller.abort(),
  };
}
