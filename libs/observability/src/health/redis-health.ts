import { Inject, Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import type { Redis } from 'ioredis';
import { authConfig } from '@app/auth';

/**
 * The readiness check's own connection to REDIS_URL, when it is set. Kept open
 * (ioredis reconnects by itself) so a check is one PING, and fails at once
 * with the reason when Redis is away instead of waiting for a timeout.
 */
@Injectable()
export class RedisHealth implements OnModuleInit, OnApplicationShutdown {
  private readonly url?: string;
  private client?: Redis;
  private lastError?: string;

  constructor(@Inject(authConfig.KEY) config: ConfigType<typeof authConfig>) {
    this.url = config.redisUrl;
  }

  async onModuleInit(): Promise<void> {
    if (!this.url) return;
    // Loaded only with REDIS_URL, as for the rate limits' counters.
    const { Redis } = await import('ioredis');
    this.client = new Redis(this.url, {
      connectTimeout: 1_000,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
    });
    this.client.on('error', (error: Error) => (this.lastError = error.message));
    this.client.on('ready', () => (this.lastError = undefined));
  }

  get isConfigured(): boolean {
    return Boolean(this.url);
  }

  async ping(signal: AbortSignal): Promise<void> {
    if (!this.url) return;
    const client = this.client;
    if (!client) throw new Error('not started');
    if (client.status === 'connecting' || client.status === 'connect') {
      // Only just started: give the first connection the time of the check.
      await new Promise<void>((resolve, reject) => {
        const abort = () => reject(new Error('still connecting'));
        signal.addEventListener('abort', abort, { once: true });
        client.once('ready', () => {
          signal.removeEventListener('abort', abort);
          resolve();
        });
      });
    }
    if (client.status !== 'ready') {
      throw new Error(this.lastError ?? `not connected (${client.status})`);
    }
    await client.ping();
  }

  onApplicationShutdown(): void {
    this.client?.disconnect();
  }
}
