/** Why the service could not take the import at all; each has its own exit code. */
export class ServiceError extends Error {
  constructor(
    readonly kind: 'auth' | 'unavailable' | 'refused',
    message: string,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  /** The service's origin, e.g. http://localhost:3000 */
  url: string;
  key: string;
  /** Further attempts after a transient failure (network, 429, 502, 503, 504). */
  retries: number;
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Told before each retry, so a person sees why nothing moves. */
  onRetry?: (reason: string, delayMs: number) => void;
}

const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);
const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 30_000;

/** The few calls the CLI makes, with the service's rules for retrying. */
export class ServiceClient {
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: ClientOptions) {
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, body: unknown): Promise<T> {
    return this.request<T>('POST', path, JSON.stringify(body));
  }

  /** Every call is safe to repeat: reads, and imports keyed by uuid (a repeat is `replayed`). */
  private async request<T>(method: string, path: string, body?: string): Promise<T> {
    const url = new URL(path, this.options.url);
    for (let attempt = 0; ; attempt += 1) {
      let response: Response;
      try {
        response = await this.fetch(url, {
          method,
          headers: {
            authorization: `Bearer ${this.options.key}`,
            accept: 'application/json',
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
        });
      } catch (error) {
        const reason = `cannot reach ${url.origin}: ${describeNetworkError(error)}`;
        if (attempt >= this.options.retries) throw new ServiceError('unavailable', reason);
        await this.wait(reason, backoff(attempt));
        continue;
      }
      if (response.ok) return (await response.json()) as T;

      const message = await errorMessage(response);
      if (response.status === 401 || response.status === 403) {
        throw new ServiceError(
          'auth',
          `the service refused the key (${response.status}): ${message}`,
        );
      }
      if (TRANSIENT_STATUSES.has(response.status)) {
        const reason = `${url.origin} answered ${response.status}: ${message}`;
        if (attempt >= this.options.retries) throw new ServiceError('unavailable', reason);
        await this.wait(reason, retryAfter(response) ?? backoff(attempt));
        continue;
      }
      throw new ServiceError(
        'refused',
        `${method} ${url.pathname} answered ${response.status}: ${message}`,
      );
    }
  }

  private async wait(reason: string, delayMs: number): Promise<void> {
    this.options.onRetry?.(reason, delayMs);
    await this.sleep(delayMs);
  }
}

/** Exponential, with jitter so that several importers do not retry in step. */
export function backoff(attempt: number, random = Math.random): number {
  const ceiling = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Retry-After in seconds or as an HTTP date, capped like our own backoff. */
export function retryAfter(
  response: Pick<Response, 'headers'>,
  now = Date.now(),
): number | undefined {
  const value = response.headers.get('retry-after');
  if (value === null) return undefined;
  const delay = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - now;
  return Number.isFinite(delay) ? Math.min(MAX_DELAY_MS, Math.max(0, delay)) : undefined;
}

async function errorMessage(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { message?: unknown };
    if (typeof body.message === 'string') return body.message;
  } catch {
    // Not our error body (a proxy's page, say): show its start.
  }
  return text.slice(0, 200) || response.statusText;
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (error instanceof Error && error.name === 'TimeoutError') return 'no answer in time';
  return cause?.code ?? cause?.message ?? (error as Error).message;
}
