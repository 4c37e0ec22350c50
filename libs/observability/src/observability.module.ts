import type { IncomingMessage, Server } from 'node:http';
import { type INestApplication, Injectable, Logger, Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { HttpAdapterHost } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { LoggerModule, Logger as NestPinoLogger, PinoLogger } from 'nestjs-pino';
import { GatewaysModule } from '@app/gateways';
import { MessagingModule } from '@app/messaging';
import { OutboundModule } from '@app/outbound';
import { PrivacyModule } from '@app/privacy';
import { WebhooksModule } from '@app/webhooks';
import { HealthController } from './health/health.controller.js';
import { RedisHealth } from './health/redis-health.js';
import { HttpTraffic, recordRoute, type ResponseHeaders } from './http/http-traffic.js';
import { logFinishedRequest, loggingParams } from './logging/logging.js';
import { Metrics } from './metrics/metrics.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { MetricsTokenGuard } from './metrics/metrics-token.guard.js';
import { observabilityConfig } from './observability.config.js';
import { GracefulShutdown } from './shutdown/graceful-shutdown.js';

/**
 * Makes pino Nest's logger as soon as the container can build it, rather than
 * when the app is up (`app.useLogger()`): start-up, the wait for the database
 * included, is then logged as it happens and as JSON, also when it fails.
 */
@Injectable()
class StartupLogger {
  constructor(logger: NestPinoLogger) {
    Logger.overrideLogger(logger);
    Logger.flush();
  }
}

/**
 * What operators need to run the service: health checks, Prometheus metrics,
 * JSON logs with a request id, and a graceful shutdown. Import it once, in the
 * app module, and call configureObservability() on the app.
 */
@Module({
  imports: [
    LoggerModule.forRootAsync({
      inject: [observabilityConfig.KEY],
      useFactory: (config: ConfigType<typeof observabilityConfig>) =>
        loggingParams({ level: config.logLevel, pretty: config.prettyLogs }),
    }),
    TerminusModule.forRoot({ errorLogStyle: 'json' }),
    MessagingModule,
    GatewaysModule,
    OutboundModule,
    PrivacyModule,
    WebhooksModule,
  ],
  controllers: [HealthController, MetricsController],
  providers: [
    StartupLogger,
    Metrics,
    MetricsTokenGuard,
    RedisHealth,
    GracefulShutdown,
    {
      provide: HttpTraffic,
      // PinoLogger is injected so the root logger exists before the first request.
      inject: [Metrics, observabilityConfig.KEY, PinoLogger],
      useFactory: (metrics: Metrics, config: ConfigType<typeof observabilityConfig>) =>
        new HttpTraffic(
          (request) => {
            metrics.observeRequest(request);
            logFinishedRequest(PinoLogger.root, request);
          },
          { requestTimeoutMs: config.requestTimeoutMs },
        ),
    },
  ],
})
export class ObservabilityModule {}

interface FastifyRequestLike {
  raw: IncomingMessage;
  routeOptions?: { url?: string };
}

export interface ObservabilitySettings {
  /** Headers for every response, e.g. the security headers (see HttpTraffic.attach). */
  responseHeaders?: ResponseHeaders;
}

/**
 * Hooks the observability into the app: pino as Nest's logger (LOG_LEVEL=silent
 * silences it), request ids, request logs, metrics and the request deadline
 * on the HTTP server, and the signal handlers of the graceful shutdown. Call
 * it instead of `app.enableShutdownHooks()`, never with it.
 */
export function configureObservability(
  app: INestApplication,
  settings: ObservabilitySettings = {},
): void {
  app.useLogger(app.get(NestPinoLogger));
  app.get(HttpTraffic).attach(app.getHttpServer() as Server, settings.responseHeaders);
  const { httpAdapter } = app.get(HttpAdapterHost);
  if (httpAdapter.getType() === 'fastify') {
    // Express leaves the matched route on the request; Fastify knows it here.
    httpAdapter.setOnRequestHook(
      (request: FastifyRequestLike, _reply: unknown, done: () => void) => {
        if (request.routeOptions?.url) recordRoute(request.raw, request.routeOptions.url);
        done();
      },
    );
  }
  app.get(GracefulShutdown).listenForSignals(app);
}
