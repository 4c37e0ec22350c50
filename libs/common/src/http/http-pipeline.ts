import { type INestApplication, RequestMethod } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { GlobalExceptionFilter } from '../errors/global-exception.filter.js';
import { createValidationPipe } from '../validation/validation.pipe.js';
import { JsonContentTypeGuard } from './json-content-type.guard.js';

/**
 * The API's request conventions, independent of the HTTP platform: the /api
 * prefix, strict validation, the one error body, JSON-only bodies. The app and
 * the controller tests both apply exactly this.
 */
export function configureHttpPipeline(app: INestApplication): void {
  // Prometheus expects /metrics at the root.
  app.setGlobalPrefix('api', { exclude: [{ path: 'metrics', method: RequestMethod.GET }] });
  app.useGlobalPipes(createValidationPipe());
  app.useGlobalFilters(new GlobalExceptionFilter(app.get(HttpAdapterHost)));
  app.useGlobalGuards(new JsonContentTypeGuard());
}
