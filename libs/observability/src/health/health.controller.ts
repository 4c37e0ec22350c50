import { Controller, Get, HttpStatus, Inject, ServiceUnavailableException } from '@nestjs/common';
import {
  HealthCheck,
  type HealthCheckResult,
  HealthCheckService,
  type HealthIndicatorFunction,
  HealthIndicatorService,
} from '@nestjs/terminus';
import {
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Pool } from 'pg';
import { Public } from '@app/auth';
import { ApiException, ErrorBody } from '@app/common';
import { PG_POOL, READ_SQL, type ReplicaReads } from '@app/database';
import { HttpTraffic } from '../http/http-traffic.js';
import { RedisHealth } from './redis-health.js';

/** Each dependency must answer within this; Kubernetes' default probe timeout is 1 s too. */
const CHECK_TIMEOUT_MS = 1_000;

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(PG_POOL) private readonly pool: Pool,
    @Inject(READ_SQL) private readonly reads: ReplicaReads,
    private readonly redis: RedisHealth,
    private readonly traffic: HttpTraffic,
  ) {}

  @Get('live')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({ summary: 'The process is up (liveness)' })
  @ApiOkResponse({ description: 'Always, while the process serves HTTP' })
  live(): Promise<HealthCheckResult> {
    return this.health.check([]);
  }

  @Get('ready')
  @HealthCheck({ noCache: true, swaggerDocumentation: false })
  @ApiOperation({
    summary: 'The database (and Redis, when configured) answer (readiness)',
    description:
      'With read replicas, `info.replicas` lists each one: whether it serves reads, and its replay lag in seconds. ' +
      'A replica that does not answer does not make the instance unready: its reads go to the primary.',
  })
  @ApiOkResponse({ description: 'Ready to serve; `info` lists what was checked' })
  @ApiServiceUnavailableResponse({
    type: ErrorBody,
    description: 'Not ready; `details` names each failing part and why',
  })
  async ready(): Promise<HealthCheckResult> {
    const checks: HealthIndicatorFunction[] = [
      () =>
        this.indicators
          .check('database')
          .attempt(async () => {
            await this.pool.query('SELECT 1');
          })
          .withTimeout(CHECK_TIMEOUT_MS),
    ];
    if (this.reads.hasReplicas) {
      checks.push(async () =>
        this.indicators.check('replicas').up({ replicas: await this.reads.states() }),
      );
    }
    if (this.redis.isConfigured) {
      checks.push(() =>
        this.indicators
          .check('redis')
          .attempt(({ signal }) => this.redis.ping(signal))
          .withTimeout(CHECK_TIMEOUT_MS),
      );
    }
    if (this.traffic.isDraining) {
      // A balancer probing over a connection still open during the drain: send nothing more here.
      checks.push(() => this.indicators.check('shutdown').down('draining'));
    }
    try {
      return await this.health.check(checks);
    } catch (error) {
      if (error instanceof ServiceUnavailableException) {
        throw notReady(error.getResponse() as HealthCheckResult);
      }
      throw error;
    }
  }
}

/** In the API's one error shape, each failing part a `details` entry. */
function notReady(result: HealthCheckResult): ApiException {
  const details = Object.entries(result.error ?? {}).map(([part, state]) => ({
    field: part,
    problem: `is ${String(state?.status)}${typeof state?.message === 'string' ? `: ${state.message}` : ''}`,
  }));
  const parts = details.map((detail) => `${detail.field} ${detail.problem}`).join('; ');
  return new ApiException(HttpStatus.SERVICE_UNAVAILABLE, `Not ready: ${parts}`, details);
}
