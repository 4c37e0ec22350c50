import { type INestApplication, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter, type NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { configureHttpPipeline } from '@app/common';
import { AppModule, type AppModuleOptions } from './app.module.js';
import type { EnvironmentVariables } from './config/environment.js';

/** The contract caps a request body at 64 KB. */
export const JSON_BODY_LIMIT = '64kb';

/** Builds the whole app, configured exactly as in production; e2e tests use it too. */
export async function createApp(
  options: AppModuleOptions & { logger?: false } = {},
): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    AppModule.register(options),
    new ExpressAdapter(),
    {
      bodyParser: false,
      bufferLogs: options.logger !== false,
      logger: options.logger === false ? false : undefined,
    },
  );
  // ETag hashing costs CPU on every response and buys nothing for an API
  // whose answers change constantly; x-powered-by only helps attackers.
  app.set('etag', false);
  app.disable('x-powered-by');
  app.useBodyParser('json', { limit: JSON_BODY_LIMIT });
  configureApp(app);
  return app;
}

/** Everything that does not depend on the HTTP platform. */
export function configureApp(app: INestApplication): void {
  const config = app.get<ConfigService<EnvironmentVariables, true>>(ConfigService);
  configureHttpPipeline(app);
  app.enableShutdownHooks();
  if (config.get('SWAGGER_ENABLED', { infer: true })) {
    SwaggerModule.setup('api/docs', app, () => createOpenApiDocument(app), {
      jsonDocumentUrl: 'api/docs-json',
      yamlDocumentUrl: 'api/docs-yaml',
    });
  }
}

export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('SMS Service')
    .setDescription(
      'Phones report every SMS they send and receive; people read their conversations by number.',
    )
    .setVersion('0.1.0')
    .build();
  return SwaggerModule.createDocument(app, config);
}

export const bootstrapLogger = new Logger('Bootstrap');
