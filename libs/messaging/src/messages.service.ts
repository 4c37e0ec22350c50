import { HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import {
  analyzeSms,
  ApiException,
  type CountryCode,
  type ErrorDetail,
  parsePartyAddress,
  type PartyKind,
} from '@app/common';
import { type ConversationMessageDto, DEFAULT_CONVERSATION_LIMIT } from './dto/conversation.dto.js';
import type { SmsEventDto } from './dto/sms-event.dto.js';
import { MessageEvents } from './message-events.js';
import { MessagesRepository } from './messages.repository.js';
import {
  ACCEPTED_PARTIES,
  type RecordOutcome,
  type SmsEvent,
  type SmsEventKind,
  type StoredMessageEvents,
} from './messages.types.js';

const EVENT_COLUMN: Record<SmsEventKind, 'sentAt' | 'receivedAt'> = {
  sent: 'sentAt',
  received: 'receivedAt',
};

@Injectable()
export class MessagesService {
  private readonly defaultCountry: CountryCode;

  constructor(
    private readonly repository: MessagesRepository,
    private readonly events: MessageEvents,
    config: ConfigService,
  ) {
    this.defaultCountry = config.get<CountryCode>('DEFAULT_COUNTRY') ?? 'US';
  }

  /**
   * Records one side's report of a message. Idempotent by uuid: the same event
   * again is a replay; the other side's event completes the message; anything
   * that disagrees with what is stored is a conflict and changes nothing.
   */
  async record(kind: SmsEventKind, dto: SmsEventDto): Promise<RecordOutcome> {
    const event = this.toEvent(kind, dto);
    const outcome = await this.store(event);
    this.events.publish({
      kind,
      outcome: outcome instanceof ApiException ? 'conflict' : outcome,
      uuid: event.uuid,
      senderPhone: event.senderPhone,
      receiverPhone: event.receiverPhone,
    });
    if (outcome instanceof ApiException) throw outcome;
    return outcome;
  }

  private async store(event: SmsEvent): Promise<RecordOutcome | ApiException> {
    const { written, inserted } = await this.repository.recordEvent(event);
    if (written) return inserted ? 'created' : 'merged';

    const stored = await this.repository.findEvents(event.uuid);
    if (!stored) {
      // Only reachable if the row vanished between the two statements.
      throw new ApiException(
        HttpStatus.SERVICE_UNAVAILABLE,
        'The message changed while it was recorded; retry',
      );
    }
    return conflictFor(event, stored) ?? 'replayed';
  }

  /** Newest `limit` messages of `phone`, oldest first, seen from `phone`. */
  async getConversation(
    phone: string,
    limit = DEFAULT_CONVERSATION_LIMIT,
  ): Promise<ConversationMessageDto[]> {
    const party = this.parseParty(phone, 'phone_number', ['phone', 'shortCode', 'senderId']);
    const rows = await this.repository.findConversation(party, limit);
    return rows.reverse().map((row) => {
      const sent = row.senderPhone === party;
      return {
        phone_number: sent ? row.receiverPhone : row.senderPhone,
        message_text: row.text,
        timestamp: row.occurredAt,
        direction: sent ? 'sent' : 'received',
      };
    });
  }

  /** Normalizes both parties and computes encoding and segments. */
  private toEvent(kind: SmsEventKind, dto: SmsEventDto): SmsEvent {
    const accepted = ACCEPTED_PARTIES[kind];
    const problems: ErrorDetail[] = [];
    const parse = (value: string, field: string, accept: PartyKind[]): string => {
      const parsed = parsePartyAddress(value, { defaultCountry: this.defaultCountry, accept });
      if ('problem' in parsed) {
        problems.push({ field, problem: parsed.problem });
        return value;
      }
      return parsed.value;
    };
    const senderPhone = parse(dto.senderPhone, 'senderPhone', accepted.sender);
    const receiverPhone = parse(dto.receiverPhone, 'receiverPhone', accepted.receiver);
    if (problems.length > 0) throw ApiException.invalid(problems);

    const { encoding, segments } = analyzeSms(dto.messageText);
    return {
      kind,
      uuid: dto.uuid.toLowerCase(),
      senderPhone,
      receiverPhone,
      text: dto.messageText,
      encoding,
      segments,
      timestamp: dto.timestamp,
    };
  }

  private parseParty(value: string, field: string, accept: PartyKind[]): string {
    const parsed = parsePartyAddress(value, { defaultCountry: this.defaultCountry, accept });
    if ('problem' in parsed)
      throw ApiException.field(HttpStatus.BAD_REQUEST, field, parsed.problem);
    return parsed.value;
  }
}

/** Why a stored message refuses this event; undefined when the event is a replay. */
export function conflictFor(
  event: SmsEvent,
  stored: StoredMessageEvents,
): ApiException | undefined {
  const mismatched = (['senderPhone', 'receiverPhone', 'text'] as const).filter(
    (field) => stored[field] !== event[field],
  );
  if (mismatched.length > 0) {
    const details = mismatched.map((field) => ({
      field: field === 'text' ? 'messageText' : field,
      problem: 'differs from the message already stored under this uuid',
    }));
    return new ApiException(
      HttpStatus.CONFLICT,
      `uuid ${event.uuid} is already used by a different message`,
      [{ field: 'uuid', problem: 'is already used by a different message' }, ...details],
    );
  }
  const storedTime = stored[EVENT_COLUMN[event.kind]];
  if (storedTime !== null && storedTime !== event.timestamp) {
    return ApiException.field(
      HttpStatus.CONFLICT,
      'timestamp',
      `differs from the ${event.kind} time already recorded for this uuid (${storedTime})`,
    );
  }
  return undefined;
}
