import {
  Inject,
  type INestApplication,
  Injectable,
  Logger,
  type OnApplicationShutdown,
} from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { HttpTraffic } from '../http/http-traffic.js';
import { observabilityConfig } from '../observability.config.js';

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** After the drain, closing the pool and stopping an embedded PostgreSQL get this long. */
const CLOSE_BUDGET_MS = 15_000;

/**
 * SIGTERM or SIGINT: stop accepting connections, let the requests in flight
 * finish (up to SHUTDOWN_TIMEOUT_MS), then close the app, which closes the
 * pool and stops an embedded PostgreSQL, and exit 0. Used instead of
 * `app.enableShutdownHooks()`, whose handler closes the app (and the pool)
 * while requests are still being answered, and then re-raises the signal, so
 * the process ends by the signal rather than with 0.
 */
@Injectable()
export class GracefulShutdown implements OnApplicationShutdown {
  private readonly logger = new Logger('Shutdown');
  private readonly timeoutMs: number;
  private app?: INestApplication;
  private shuttingDown = false;
  private readonly onSignal = (signal: NodeJS.Signals) => void this.shutdown(signal);

  constructor(
    private readonly traffic: HttpTraffic,
    @Inject(observabilityConfig.KEY) config: ConfigType<typeof observabilityConfig>,
  ) {
    this.timeoutMs = config.shutdownTimeoutMs;
  }

  listenForSignals(app: INestApplication): void {
    this.app = app;
    for (const signal of SIGNALS) process.on(signal, this.onSignal);
  }

  onApplicationShutdown(): void {
    for (const signal of SIGNALS) process.off(signal, this.onSignal);
  }

  private async shutdown(signal: NodeJS.Signals): Promise<void> {
    if (this.shuttingDown) {
      this.logger.warn(`${signal} again: exiting without waiting`);
      process.exit(1);
    }
    this.shuttingDown = true;
    const watchdog = setTimeout(() => {
      this.logger.error(
        `Shutdown still not done after ${this.timeoutMs + CLOSE_BUDGET_MS} ms; exiting`,
      );
      process.exit(1);
    }, this.timeoutMs + CLOSE_BUDGET_MS);
    watchdog.unref();

    this.logger.log(
      `${signal}: no new connections; finishing ${this.traffic.inFlightCount} request(s) in flight (up to ${this.timeoutMs} ms)`,
    );
    try {
      const { durationMs, abandoned } = await this.traffic.drain(this.timeoutMs);
      if (abandoned > 0) {
        this.logger.warn(
          `${abandoned} request(s) unanswered after ${durationMs} ms; connections closed`,
        );
      } else {
        this.logger.log(`Every request answered; HTTP server closed in ${durationMs} ms`);
      }
      await this.app?.close();
      this.logger.log('Shutdown complete');
      process.exit(0);
    } catch (error) {
      this.logger.error(
        `Shutdown failed: ${error instanceof Error ? error.message : String(error)}`,
      );
      process.exit(1);
    }
  }
}
