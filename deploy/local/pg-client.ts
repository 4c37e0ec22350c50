import pg from 'pg';

/** Runs `fn` on one connection to `url`, then closes it. */
export async function withClient<T>(
  url: string,
  fn: (client: pg.Client) => Promise<T>,
): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Polls until `check` passes (resolves true), `alive()` turns false, or `timeoutMs` passes. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  options: { timeoutMs?: number; alive?: () => boolean; output?: () => string[] } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let lastError = '';
  while (Date.now() < deadline) {
    if (options.alive && !options.alive()) {
      throw new Error(`${what}: the process exited\n${tail(options.output)}`);
    }
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(
    `${what}: not within ${options.timeoutMs ?? 60_000} ms (${lastError})\n${tail(options.output)}`,
  );
}

function tail(output?: () => string[]): string {
  return output ? output().slice(-30).join('\n') : '';
}
