import { Agent as HttpAgent, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { DestinationRefused, type DestinationPolicy } from './destinations.js';

/** What an attempt came to. */
export interface AttemptResult {
  /** The receiver's status; undefined when none came. */
  statusCode?: number;
  latencyMs: number;
  /** Why it did not count as accepted; undefined for a 2xx. */
  error?: string;
  /** From Retry-After on a 429 or 503. */
  retryAfterMs?: number;
}

/** Of a refusal's body, kept for the deliveries list; the rest is discarded unread. */
const ERROR_BODY_BYTES = 200;
const RETRY_AFTER_MAX_MS = 3 * 3600_000;

/**
 * Posts one signed event. The connection goes through the destination
 * policy's lookup, so it only ever reaches an address that passed; redirects
 * are not followed (a 3xx is a failure), and the whole exchange, body
 * included, has `timeoutMs`. Keep-alive agents reuse connections to busy
 * receivers.
 */
export class WebhookSender {
  private readonly httpAgent: HttpAgent;
  private readonly httpsAgent: HttpsAgent;

  /** `maxSockets`: connections per receiver (host and port), at least the attempts it may get at once. */
  constructor(
    private readonly destinations: DestinationPolicy,
    private readonly timeoutMs: number,
    maxSockets: number,
  ) {
    this.httpAgent = new HttpAgent({ keepAlive: true, maxSockets });
    this.httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets });
  }

  async post(url: string, headers: Record<string, string>, body: string): Promise<AttemptResult> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    try {
      const target = new URL(url);
      // The lookup is skipped for IP literals, so those are checked here.
      if (isIP(target.hostname.replace(/^\[(.*)\]$/, '$1'))) {
        await this.destinations.resolve(target.hostname);
      }
      const response = await this.send(target, headers, body);
      const statusCode = response.statusCode ?? 0;
      const excerpt = await readExcerpt(response);
      if (statusCode >= 200 && statusCode < 300) return { statusCode, latencyMs: elapsed() };
      return {
        statusCode,
        latencyMs: elapsed(),
        error: refusal(statusCode, excerpt),
        retryAfterMs:
          statusCode === 429 || statusCode === 503
            ? retryAfter(response.headers['retry-after'])
            : undefined,
      };
    } catch (error) {
      return { latencyMs: elapsed(), error: describeFailure(error, this.timeoutMs) };
    }
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private send(target: URL, headers: Record<string, string>, body: string) {
    const secure = target.protocol === 'https:';
    return new Promise<IncomingMessage>((resolve, reject) => {
      const request = (secure ? httpsRequest : httpRequest)(target, {
        method: 'POST',
        agent: secure ? this.httpsAgent : this.httpAgent,
        lookup: this.destinations.lookup,
        signal: AbortSignal.timeout(this.timeoutMs),
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'user-agent': 'sms-service-webhooks/1',
        },
      });
      request.once('response', resolve);
      request.once('error', reject);
      request.end(body);
    });
  }
}

/** The first bytes of the body, as text; the rest is drained so the connection can be reused. */
async function readExcerpt(response: IncomingMessage): Promise<string> {
  let kept = '';
  for await (const chunk of response as AsyncIterable<Buffer>) {
    if (kept.length < ERROR_BODY_BYTES) kept += chunk.toString('utf8', 0, ERROR_BODY_BYTES);
  }
  return kept.slice(0, ERROR_BODY_BYTES);
}

function refusal(statusCode: number, excerpt: string): string {
  const why =
    statusCode >= 300 && statusCode < 400 ? 'redirects are not followed' : `HTTP ${statusCode}`;
  // eslint-disable-next-line no-control-regex
  const text = excerpt.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  return text ? `${why}: ${text}` : why;
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof DestinationRefused) return `refused: the URL ${error.message}`;
  const failure = error as NodeJS.ErrnoException;
  if (failure.name === 'TimeoutError' || failure.name === 'AbortError') {
    return `no answer within ${timeoutMs} ms`;
  }
  // A refusal from the policy's lookup reaches here wrapped by the socket.
  if (failure.code === 'EDESTINATION') return `refused: the URL ${failure.message}`;
  return `${failure.code ?? 'error'}: ${failure.message}`.slice(0, 500);
}

/** Retry-After in seconds or as an HTTP date, capped; undefined when absent or unreadable. */
function retryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now();
  return Number.isFinite(ms) && ms > 0 ? Math.min(ms, RETRY_AFTER_MAX_MS) : undefined;
}
