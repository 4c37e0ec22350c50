import { Injectable, Logger } from '@nestjs/common';
import { MessageEvents } from '@app/messaging';
import { OutboundEvents } from './outbound-events.js';
import { OutboxRepository } from './outbox.repository.js';
import type { DeliveryChanged, DeliveryReport } from './outbound.types.js';

/**
 * Status reports from providers (SMPP receipts, SMS Gateway for Android and
 * Twilio webhooks), matched to messages by the provider's id. A report can
 * overtake the commit of its submit's answer; it is kept and applied when the
 * id is stored. Both sides write first and look second, so whichever comes
 * last sees the other: a report is never lost to that race, and applying it
 * twice changes nothing.
 */
@Injectable()
export class DeliveryReports {
  private readonly logger = new Logger('Delivery');

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly events: OutboundEvents,
    private readonly messageEvents: MessageEvents,
  ) {}

  async apply(gatewayId: string, report: DeliveryReport): Promise<void> {
    const first = await this.outbox.applyReport(gatewayId, report);
    this.announce(first.changed);
    if (first.matched) return;
    await this.outbox.keepReport(gatewayId, report);
    const second = await this.outbox.applyReport(gatewayId, report);
    this.announce(second.changed);
    if (second.matched) await this.outbox.forgetReports(gatewayId, report.providerMessageId);
  }

  /** After the provider's ids were stored: the reports that came before them. */
  async settleKept(ids: ReadonlyArray<{ gatewayId: string; providerMessageId: string }>) {
    for (const kept of await this.outbox.findKeptReports(ids)) {
      const { jobStatus, changed } = await this.outbox.applyReport(kept.gatewayId, kept);
      this.announce(changed);
      // Forgotten once it did its part, or once its message is past needing it; a report that
      // should have applied and did not stays for the next sweep.
      if (
        changed ||
        jobStatus === 'delivered' ||
        jobStatus === 'failed' ||
        kept.status === 'sent'
      ) {
        await this.outbox.forgetReports(kept.gatewayId, kept.providerMessageId);
      } else {
        this.logger.warn(
          `A kept ${kept.status} report for ${kept.providerMessageId} did not apply (its message is ${jobStatus ?? 'unknown'}); kept for the next sweep`,
        );
      }
    }
  }

  /**
   * The workers' sweep: every kept report whose message has its provider id
   * by now, and the SMPP receipts that recognize a message of unknown outcome
   * (it did reach the SMSC, so it is sent, not lost, and never sent again).
   */
  async settleAllKept(): Promise<void> {
    await this.settleKept(await this.outbox.findMatchedKeptReports());
    for (const change of await this.outbox.recognizeUnknownOutcomes()) this.announce(change);
  }

  /** Tells the metrics and the live stream; the change is committed. */
  announce(changed: DeliveryChanged | undefined): void {
    if (!changed) return;
    this.events.change(changed);
    this.messageEvents.publishChange(changed);
  }
}
