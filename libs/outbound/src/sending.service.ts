import { randomUUID } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import {
  analyzeSms,
  ApiException,
  type ErrorDetail,
  type PartyClassification,
  type PartyKind,
  PhoneNumbers,
  resolveParty,
} from '@app/common';
import { MessageEvents, type MessageRecordRow, MessagesRepository } from '@app/messaging';
import type { SendAcceptedDto, SendMessageDto } from './dto/send-message.dto.js';
import { OutboundEvents } from './outbound-events.js';
import { OutboxRepository } from './outbox.repository.js';

/** What a send request came to: a new message (202) or one already known (200). */
export interface SendResult {
  accepted: SendAcceptedDto;
  /** True when this request queued the message (new, or a failed one retried). */
  queued: boolean;
}

/**
 * The rules of sending for real: who may send from a number, where it goes
 * out, opt-outs, and idempotency by uuid. The message and its delivery job are
 * written together; the workers take it from there.
 */
@Injectable()
export class SendingService {
  constructor(
    private readonly messages: MessagesRepository,
    private readonly outbox: OutboxRepository,
    private readonly phones: PhoneNumbers,
    private readonly messageEvents: MessageEvents,
    private readonly events: OutboundEvents,
  ) {}

  /**
   * Queues `dto` from `from` (as the auth guard read it). The same uuid with
   * the same content answers the message's status and sends nothing again,
   * except that a failed message is queued again: that is how it is retried.
   * Other content under a known uuid is a 409.
   */
  async send(dto: SendMessageDto, from?: PartyClassification): Promise<SendResult> {
    const { sender, receiver } = this.parties(dto, from);
    const uuid = dto.uuid?.toLowerCase() ?? randomUUID();
    const gatewayId = await this.gatewayFor(sender);
    const { encoding, segments } = analyzeSms(dto.text);
    await this.refuseOptedOut(sender, receiver);

    const message = { uuid, senderPhone: sender, receiverPhone: receiver, text: dto.text };
    if (await this.messages.recordOutgoing({ ...message, encoding, segments }, gatewayId)) {
      this.messageEvents.publish({ kind: 'sent', outcome: 'created', ...message });
      this.announceQueued(message, gatewayId);
      return { accepted: { uuid, status: 'queued' }, queued: true };
    }

    const stored = await this.messages.findMessage(uuid);
    if (!stored) throw new Error(`Message ${uuid} vanished while it was sent`);
    refuseOtherContent(stored, message);
    if (stored.deliveryStatus === 'failed' && (await this.outbox.requeue(uuid, gatewayId))) {
      this.announceQueued(message, gatewayId, true);
      return { accepted: { uuid, status: 'queued' }, queued: true };
    }
    return { accepted: { uuid, status: stored.deliveryStatus! }, queued: false };
  }

  private parties(dto: SendMessageDto, from?: PartyClassification) {
    const problems: ErrorDetail[] = [];
    const parse = (
      value: string,
      field: 'from' | 'to',
      accept: PartyKind[],
      classified?: PartyClassification,
    ) => {
      const parsed = classified
        ? resolveParty(classified, accept)
        : this.phones.parse(value, accept);
      if ('problem' in parsed) problems.push({ field, problem: parsed.problem });
      return 'problem' in parsed ? value : parsed.value;
    };
    const sender = parse(dto.from, 'from', ['phone'], from);
    const receiver = parse(dto.to, 'to', ['phone', 'shortCode']);
    if (problems.length > 0) throw ApiException.invalid(problems);
    return { sender, receiver };
  }

  private async gatewayFor(sender: string): Promise<string> {
    const gatewayId = await this.outbox.findSenderGateway(sender);
    if (gatewayId === undefined) {
      throw ApiException.field(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'from',
        `${sender} has no outbound gateway: connect one with outbound settings (POST /api/gateways)`,
      );
    }
    return gatewayId;
  }

  /** Carriers require it: after STOP, nothing more to that number from this one until START. */
  private async refuseOptedOut(sender: string, receiver: string): Promise<void> {
    const optOut = await this.messages.findOptOut(sender, receiver);
    if (optOut) {
      throw ApiException.field(
        HttpStatus.UNPROCESSABLE_ENTITY,
        'to',
        `${receiver} opted out of messages from ${sender} (it sent ${optOut.keyword} at ${new Date(optOut.since * 1000).toISOString()}); it can opt back in by sending START`,
      );
    }
  }

  /** Wakes this instance's worker; a retried message also tells the live stream it moved. */
  private announceQueued(
    message: { uuid: string; senderPhone: string; receiverPhone: string },
    gatewayId: string,
    retried = false,
  ): void {
    const { uuid, senderPhone, receiverPhone } = message;
    this.events.change({
      uuid,
      senderPhone,
      receiverPhone,
      gatewayId,
      status: 'queued',
      queuedAtMs: Date.now(),
    });
    if (retried) this.messageEvents.publishChange({ uuid, senderPhone, receiverPhone });
  }
}

/** A 409 naming each field that differs from what this uuid already holds. */
function refuseOtherContent(
  stored: MessageRecordRow,
  message: { uuid: string; senderPhone: string; receiverPhone: string; text: string },
): void {
  const mismatched: ErrorDetail[] = [];
  if (stored.deliveryStatus === null) {
    mismatched.push({
      field: 'uuid',
      problem: 'belongs to a message a phone reported, not one sent here',
    });
  }
  const fields: Array<[keyof typeof message & keyof MessageRecordRow, string]> = [
    ['senderPhone', 'from'],
    ['receiverPhone', 'to'],
    ['text', 'text'],
  ];
  for (const [column, field] of fields) {
    if (stored[column] !== message[column]) {
      mismatched.push({ field, problem: 'differs from the message already sent under this uuid' });
    }
  }
  if (mismatched.length > 0) {
    throw new ApiException(
      HttpStatus.CONFLICT,
      `uuid ${message.uuid} is already used by a different message`,
      mismatched,
    );
  }
}
