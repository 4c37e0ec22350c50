import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { BINARIES, ensureBinaries } from './binaries.js';
import { waitFor } from './pg-client.js';
import { freePort } from './ports.js';
import { launch, type ManagedProcess } from './processes.js';

/** This machine's Redis, which the topology prefers (the issue: "plus this machine's Redis"). */
export const MACHINE_REDIS_URL = 'redis://127.0.0.1:6379';

export interface RedisEndpoint {
  readonly url: string;
  /** REDIS_KEY_PREFIX: this run's keys only, so runs and other users of the Redis do not mix. */
  readonly prefix: string;
  /** Started by the topology (the machine's Redis was down), rather than the machine's. */
  readonly process: ManagedProcess | undefined;
  /** Deletes this run's keys from the machine's Redis, or stops the private one. */
  stop(): Promise<void>;
}

/** True when a Redis answers PING at `url`. */
export async function pingRedis(url: string): Promise<boolean> {
  const redis = connect(url);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** This machine's Redis if it answers, else a private redis-server under `dir`. */
export async function provideRedis(options: {
  dir: string;
  prefix: string;
  log: (line: string) => void;
  /** MACHINE_REDIS_URL unless told otherwise (a test of the fallback). */
  machineUrl?: string;
}): Promise<RedisEndpoint> {
  const { prefix } = options;
  const machineUrl = options.machineUrl ?? MACHINE_REDIS_URL;
  if (await pingRedis(machineUrl)) {
    return {
      url: machineUrl,
      prefix,
      process: undefined,
      stop: () => deleteKeys(machineUrl, prefix),
    };
  }
  options.log(
    `This machine's Redis (${machineUrl}) does not answer PING: starting a private redis-server.`,
  );
  await ensureBinaries(['redisServer'], options.log);
  await mkdir(options.dir, { recursive: true });
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  const server = launch(
    'redis',
    BINARIES.redisServer,
    // No persistence: the folder is deleted at the end anyway.
    ['--bind', '127.0.0.1', '--port', String(port), '--save', '', '--appendonly', 'no'],
    { cwd: options.dir, logFile: join(options.dir, 'redis.log') },
  );
  await waitFor(`redis-server on port ${port}`, () => pingRedis(url), {
    alive: server.isRunning,
    output: server.output,
  });
  return {
    url,
    prefix,
    process: server,
    stop: async () => void (await server.stop('SIGTERM', 5_000)),
  };
}

function connect(url: string): Redis {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1_000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  // Failures reach the caller through the rejected command; no "Unhandled error event" noise.
  redis.on('error', () => undefined);
  return redis;
}

/** The rate-limit keys of this run: they would expire, but need not linger in a shared Redis. */
async function deleteKeys(url: string, prefix: string): Promise<void> {
  const redis = connect(url);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // Redis went away meanwhile: nothing more to clean there.
  } finally {
    redis.disconnect();
  }
}
