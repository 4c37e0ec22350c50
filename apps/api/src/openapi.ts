import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { stringify } from 'yaml';
import { configureHttpPipeline } from '@app/common';
import { AppModule } from './app.module.js';
import { createOpenApiDocument } from './app.setup.js';

/**
 * Writes swagger.yaml from the compiled code (so the Swagger CLI plugin's
 * metadata is in it). Preview mode builds the module graph without running
 * providers, so no database is needed.
 */
async function writeOpenApi(path = 'swagger.yaml'): Promise<void> {
  const app = await NestFactory.create(AppModule.register(), new ExpressAdapter(), {
    preview: true,
    logger: false,
  });
  configureHttpPipeline(app);
  writeFileSync(path, stringify(createOpenApiDocument(app), { aliasDuplicateObjects: false }));
  await app.close();
  console.log(`OpenAPI document written to ${path}`);
}

await writeOpenApi(process.argv[2]);
