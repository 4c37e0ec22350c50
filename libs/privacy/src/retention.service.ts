import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { AuditRepository } from './audit.repository.js';
import { privacyConfig } from './privacy.config.js';
import { RetentionEvents, type RetentionRun } from './retention-events.js';
import { RetentionRepository } from './retention.repository.js';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Messages per transaction: locks stay short, and a crash loses at most one batch's work (none: it rolls back). */
export const RETENTION_BATCH_SIZE = 1000;

/**
 * Deletes messages older than RETENTION_DAYS, at start-up and then once a
 * day, in batches that each correct their threads' summaries. Every instance
 * schedules it; the advisory lock lets one run at a time, and the others skip.
 */
@Injectable()
export class RetentionService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('Retention');
  private timer?: NodeJS.Timeout;
  private current?: Promise<RetentionRun>;
  private stopping = false;

  constructor(
    private readonly repository: RetentionRepository,
    private readonly audit: AuditRepository,
    private readonly events: RetentionEvents,
    @Inject(privacyConfig.KEY) private readonly config: ConfigType<typeof privacyConfig>,
  ) {}

  onApplicationBootstrap(): void {
    if (this.config.retentionDays === undefined) return;
    this.schedule();
    this.timer = setInterval(() => this.schedule(), DAY_MS);
    this.timer.unref();
  }

  /** Lets the run under way finish its batch, and starts none. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    clearInterval(this.timer);
    await this.current;
  }

  /** Resolves once no run of this instance is under way. */
  async idle(): Promise<void> {
    await this.current;
  }

  /**
   * One run now (a scheduled one, or a test's); the same run when one is
   * under way here. Never rejects: a failure is logged, counted and audited
   * as far as it got, and the next run goes on from there.
   */
  run(): Promise<RetentionRun> {
    this.current ??= this.runOnce().finally(() => (this.current = undefined));
    return this.current;
  }

  private schedule(): void {
    if (!this.stopping) void this.run();
  }

  private async runOnce(): Promise<RetentionRun> {
    const days = this.config.retentionDays;
    const run: RetentionRun = { outcome: 'skipped', messagesDeleted: 0, summariesDeleted: 0 };
    if (days === undefined) return run;
    const startedAt = Date.now();
    try {
      const locked = await this.repository.withLock(async (session) => {
        const cutoff = await session.cutoff(days);
        const auditId = await this.audit.start({
          action: 'retention',
          actor: 'retention',
          keyId: null,
          phoneHash: null,
        });
        for (;;) {
          // A shutdown leaves the record unfinished; the next run deletes the rest.
          if (this.stopping) return cutoff;
          const batch = await session.deleteBatch(cutoff, RETENTION_BATCH_SIZE, auditId);
          run.messagesDeleted += batch.messages;
          run.summariesDeleted += batch.summaries;
          if (batch.messages < RETENTION_BATCH_SIZE) break;
        }
        await this.audit.finish(auditId);
        return cutoff;
      });
      if (locked === undefined) {
        this.logger.log('Retention run skipped: another instance is running it');
      } else {
        run.outcome = 'completed';
        this.logger.log(
          `Retention run: ${run.messagesDeleted} messages older than ${days} days (before ${locked}) deleted, ${run.summariesDeleted} empty thread summaries removed, in ${Date.now() - startedAt} ms`,
        );
      }
    } catch (error) {
      run.outcome = 'failed';
      this.logger.error(
        `Retention run failed after ${run.messagesDeleted} messages deleted: ${(error as Error).message}`,
      );
    }
    this.events.finished$.next(run);
    return run;
  }
}
