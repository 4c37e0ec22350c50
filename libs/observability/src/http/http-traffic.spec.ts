import { Agent, createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { HttpTraffic, type FinishedRequest, recordRoute } from './http-traffic.js';
import { currentRequestId } from './request-context.js';
import { requestIdOf } from './request-id.js';

// A bare Node server stands in for Express and Fastify: HttpTraffic only ever
// sees Node's request and response.

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

async function serve(
  handler: Parameters<typeof createServer>[1],
  options: { requestTimeoutMs?: number; responseHeaders?: Map<string, string> } = {},
): Promise<{ traffic: HttpTraffic; finished: FinishedRequest[]; url: string; server: Server }> {
  const finished: FinishedRequest[] = [];
  const traffic = new HttpTraffic((request) => finished.push(request), {
    requestTimeoutMs: options.requestTimeoutMs,
  });
  const server = createServer(handler);
  servers.push(server);
  const headers = options.responseHeaders;
  traffic.attach(server, headers && (() => headers));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { traffic, finished, url: `http://127.0.0.1:${port}`, server };
}

/**
 * What became of a POST sent over `agent`: its status, or the network
 * error's code. With `maxSockets: 1` the agent keeps exactly one connection,
 * as a keep-alive client does, and opens a new one only after the server said
 * `Connection: close`. (fetch's shared pool opens extra connections whenever
 * one is busy: under load one could sit in the listen backlog when the drain
 * closes the listener, and the kernel, not the drain, would reset it.)
 */
function postOver(agent: Agent, url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const sent = httpRequest(url, { method: 'POST', agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
      response.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
    sent.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    sent.end('x');
  });
}

/** What became of a request: its status, or the network error's code. */
async function outcome(url: string, init?: RequestInit): Promise<number | string> {
  try {
    const response = await fetch(url, init);
    await response.text();
    return response.status;
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    return cause?.code ?? (error as Error).message;
  }
}

describe('HttpTraffic', () => {
  describe('request ids', () => {
    it("echoes the client's X-Request-Id when it is short and plain, and makes one otherwise", async () => {
      const { url } = await serve((req, res) => res.end(requestIdOf(req)));
      const idOf = async (header?: string) => {
        const response = await fetch(url, header ? { headers: { 'X-Request-Id': header } } : {});
        const body = await response.text();
        expect(response.headers.get('x-request-id')).toBe(body);
        return body;
      };
      const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

      expect(await idOf('client-1.retry_2')).toBe('client-1.retry_2');
      expect(await idOf('x'.repeat(128))).toBe('x'.repeat(128));
      expect(await idOf()).toMatch(uuid);
      expect(await idOf('x'.repeat(129))).toMatch(uuid);
      expect(await idOf('has space')).toMatch(uuid);
      expect(await idOf('semi;colon')).toMatch(uuid);
      expect(await idOf('{"json":1}')).toMatch(uuid);
    });
  });

  describe('every response', () => {
    it('carries the given headers, answers and errors alike', async () => {
      const headers = new Map([['X-Content-Type-Options', 'nosniff']]);
      const { url } = await serve(
        (req, res) => {
          res.statusCode = req.url === '/missing' ? 404 : 200;
          res.end();
        },
        { responseHeaders: headers },
      );
      for (const path of ['/', '/missing']) {
        const response = await fetch(`${url}${path}`);
        expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      }
    });

    it('is handled inside its request context, so log lines can carry its id', async () => {
      const { url } = await serve((_req, res) => {
        // Read after an await: the context follows the request across async steps.
        void Promise.resolve().then(() => res.end(currentRequestId()));
      });
      const response = await fetch(url, { headers: { 'X-Request-Id': 'context-1' } });
      expect(await response.text()).toBe('context-1');
      expect(currentRequestId()).toBeUndefined();
    });
  });

  describe('request deadline', () => {
    it('passes a timely answer through', async () => {
      // Slow, but well within the deadline.
      const { url } = await serve((_req, res) => void setTimeout(() => res.end('ok'), 20), {
        requestTimeoutMs: 200,
      });
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('ok');
    });

    it('answers 503 with Retry-After and the common error body when the handler hangs', async () => {
      const { url, finished } = await serve(() => undefined, { requestTimeoutMs: 200 });
      const started = performance.now();
      const response = await fetch(url, { headers: { 'X-Request-Id': 'slow-1' } });
      expect(performance.now() - started).toBeGreaterThanOrEqual(190);
      expect(response.status).toBe(503);
      expect(response.headers.get('retry-after')).toBe('5');
      expect(await response.json()).toEqual({
        statusCode: 503,
        error: 'Service Unavailable',
        message: 'No answer within 200 ms; retry later (resending an event is safe)',
        requestId: 'slow-1',
      });
      await expect.poll(() => finished.map((request) => request.status)).toEqual([503]);
    });

    it('leaves an answer that has begun, such as an event stream, alone', async () => {
      const { url } = await serve(
        (_req, res) => {
          res.writeHead(200, { 'Content-Type': 'text/event-stream' });
          res.write(': hello\n\n');
          // Ends well after the deadline, which must not cut it short.
          setTimeout(() => res.end('event: done\n\n'), 400);
        },
        { requestTimeoutMs: 100 },
      );
      const response = await fetch(url);
      expect(response.status).toBe(200);
      expect(await response.text()).toContain('event: done');
    });
  });

  describe('finished requests', () => {
    it('reports each request once, with its final status and the route the platform matched', async () => {
      const { url, finished } = await serve((req, res) => {
        if (req.url?.startsWith('/messages/')) recordRoute(req, '/messages/:uuid');
        res.statusCode = req.url?.startsWith('/messages/') ? 200 : 404;
        res.end();
      });
      await fetch(`${url}/messages/42?x=1`, { headers: { 'X-Request-Id': 'one' } });
      await fetch(`${url}/nowhere?secret=1`, { method: 'POST', body: '{}' });

      expect(finished).toEqual([
        expect.objectContaining({
          requestId: 'one',
          method: 'GET',
          route: '/messages/:uuid',
          status: 200,
          aborted: false,
        }),
        expect.objectContaining({
          method: 'POST',
          route: 'unmatched',
          path: '/nowhere',
          status: 404,
          aborted: false,
        }),
      ]);
      expect(finished[0]).not.toHaveProperty('path');
      expect(finished[0].durationSeconds).toBeGreaterThan(0);
    });

    it('reads the route Express leaves on the request', async () => {
      const { url, finished } = await serve((req, res) => {
        Object.assign(req, { route: { path: '/api/get-conversation/:phone_number' } });
        res.end();
      });
      await fetch(`${url}/api/get-conversation/%2B12025550143`);
      expect(finished[0].route).toBe('/api/get-conversation/:phone_number');
    });

    it('reports a request whose client left before the answer as aborted', async () => {
      const { url, finished, traffic } = await serve(() => undefined);
      const controller = new AbortController();
      const pending = fetch(url, { signal: controller.signal }).catch(() => undefined);
      await vi.waitFor(() => expect(traffic.inFlightCount).toBe(1));
      controller.abort();
      await pending;
      await expect.poll(() => finished.length).toBe(1);
      expect(finished[0].aborted).toBe(true);
    });
  });

  describe('drain', () => {
    it('answers the request in flight, closing its connection, and refuses new connections', async () => {
      const { url, traffic } = await serve((_req, res) => {
        // Still unanswered when the drain starts.
        setTimeout(() => res.end('done'), 300);
      });
      const inFlight = fetch(url);
      await vi.waitFor(() => expect(traffic.inFlightCount).toBe(1));

      const drained = traffic.drain(5_000);
      expect(traffic.isDraining).toBe(true);
      expect(await outcome(url)).toBe('ECONNREFUSED');
      const response = await inFlight;
      expect(await response.text()).toBe('done');
      expect(response.headers.get('connection')).toBe('close');
      expect(await drained).toEqual({ durationMs: expect.any(Number), abandoned: 0 });
    });

    it('answers a request whose body is still arriving when the drain starts', async () => {
      let body = '';
      const { url, traffic } = await serve((req, res) => {
        req.on('data', (chunk: Buffer) => (body += String(chunk)));
        req.on('end', () => res.end(`got ${body}`));
      });
      const { port } = new URL(url);
      const req = httpRequest({ port, host: '127.0.0.1', method: 'POST' });
      const answer = new Promise<string>((resolve, reject) => {
        req.on('response', (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => (text += String(chunk)));
          res.on('end', () => resolve(`${res.statusCode} ${text}`));
        });
        req.on('error', reject);
      });
      req.write('first half, ');
      await vi.waitFor(() => expect(body).toBe('first half, '));
      const drained = traffic.drain(5_000);
      // The rest arrives while the drain is under way.
      setTimeout(() => req.end('second half'), 200);
      expect(await answer).toBe('200 got first half, second half');
      expect((await drained).abandoned).toBe(0);
    });

    it('lets keep-alive clients with a request on the way get their answer, not a reset', async () => {
      let served = 0;
      const { url, traffic } = await serve((_req, res) => {
        served += 1;
        // Answers take a moment, so some are on the way when the drain starts.
        setTimeout(() => res.end('ok'), 2);
      });
      const outcomes = new Map<number | string, number>();
      const answered = new Set<number>();
      // Each worker sends its next request the moment the previous answer arrives,
      // over its own single kept-alive connection, until the closed server refuses it.
      const worker = async (_: unknown, index: number) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 });
        try {
          for (;;) {
            const result = await postOver(agent, url);
            outcomes.set(result, (outcomes.get(result) ?? 0) + 1);
            if (result === 200) answered.add(index);
            if (result !== 200) return;
          }
        } finally {
          agent.destroy();
        }
      };
      const workers = Array.from({ length: 16 }, worker);
      // Every worker has a kept-alive connection and a request on the way.
      await vi.waitFor(() => expect(answered.size).toBe(16), { timeout: 5_000 });
      const drained = await traffic.drain(5_000);
      await Promise.all(workers);

      // Every request the server received was answered; what came after the drain was
      // refused a connection, none was reset on one.
      expect(Object.fromEntries(outcomes)).toEqual({ 200: served, ECONNREFUSED: 16 });
      expect(drained.abandoned).toBe(0);
    });

    it('closes what is still unanswered at the deadline', async () => {
      const { url, traffic } = await serve(() => undefined);
      const stuck = outcome(url);
      await vi.waitFor(() => expect(traffic.inFlightCount).toBe(1));
      expect(await traffic.drain(200)).toEqual({ durationMs: expect.any(Number), abandoned: 1 });
      expect(await stuck).not.toBe(200);
    });

    it('ends live event streams at once instead of waiting for them', async () => {
      const { url, traffic } = await serve((_req, res) => {
        res.writeHead(200, { 'Content-Type': 'text/event-stream' });
        res.write(': hello\n\n');
      });
      const stream = await fetch(url);
      const drained = await traffic.drain(5_000);
      expect(drained).toEqual({ durationMs: expect.any(Number), abandoned: 0 });
      expect(drained.durationMs).toBeLessThan(1_000);
      await expect(stream.text()).rejects.toThrow();
    });
  });
});
