import { Controller, Get, Header, Res, UseGuards } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import { Public } from '@app/auth';
import { Metrics } from './metrics.js';
import { MetricsTokenGuard } from './metrics-token.guard.js';

/**
 * Prometheus scrapes `/metrics`, at the root as is customary (the global
 * prefix excludes it). No API key: METRICS_TOKEN guards it instead.
 */
@ApiExcludeController()
@Public()
@UseGuards(MetricsTokenGuard)
@Controller('metrics')
export class MetricsController {
  constructor(
    private readonly metrics: Metrics,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Get()
  @Header('Cache-Control', 'no-store')
  async scrape(@Res({ passthrough: true }) response: unknown): Promise<string> {
    this.adapterHost.httpAdapter.setHeader(response, 'Content-Type', this.metrics.contentType);
    return this.metrics.render();
  }
}
