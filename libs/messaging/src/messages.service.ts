import { HttpStatus, Injectable } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { plainToInstance } from 'class-transformer';
import { validate } from 'class-validator';
import { canActFor, type Principal } from '@app/auth';
import {
  analyzeSms,
  ApiException,
  type CountryCode,
  decodeCursor,
  encodeCursor,
  type ErrorDetail,
  parsePartyAddress,
  type PartyKind,
  toErrorDetails,
} from '@app/common';
import { type ConversationDto, DEFAULT_CONVERSATION_LIMIT } from './dto/conversation.dto.js';
import {
  type ConversationsPageDto,
  DEFAULT_THREAD_LIMIT,
  DEFAULT_THREADS_LIMIT,
  type ThreadPageDto,
  toConversationSummaryDto,
} from './dto/conversations.dto.js';
import {
  ImportEventDto,
  type ImportOutcome,
  type ImportResponseDto,
  type ImportResultDto,
} from './dto/import.dto.js';
import { type MessageDto, toMessageDto, toThreadMessageDto } from './dto/message.dto.js';
import type { SmsEventDto } from './dto/sms-event.dto.js';
import { MessageEvents } from './message-events.js';
import { MessagesRepository } from './messages.repository.js';
import {
  ACCEPTED_PARTIES,
  ANY_PARTY,
  type MessagePosition,
  type RecordOutcome,
  type SmsEvent,
  type SmsEventKind,
  type StoreResult,
  type StoredMessageEvents,
} from './messages.types.js';

const EVENT_COLUMN: Record<SmsEventKind, 'sentAt' | 'receivedAt'> = {
  sent: 'sentAt',
  received: 'receivedAt',
};

/** The party whose phone reports each event, and so whose key may record it. */
const REPORTER: Record<SmsEventKind, 'senderPhone' | 'receiverPhone'> = {
  sent: 'senderPhone',
  received: 'receiverPhone',
};

interface PageOptions {
  limit?: number;
  before?: string;
}

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
    const [result] = await this.repository.recordEvents([event]);
    const outcome = this.classify(event, result);
    if (outcome instanceof ApiException) throw outcome;
    return outcome;
  }

  /**
   * Records up to 1000 events with the same rules as `record`, one result per
   * event: a bad or foreign event gets its own result and never spoils the
   * others. Events are written with one set-based statement per round; a uuid
   * repeated within the request goes to a later round, so it sees the earlier
   * one as stored, exactly as two single requests would.
   */
  async import(items: readonly unknown[], principal: Principal): Promise<ImportResponseDto> {
    const results = new Array<ImportResultDto>(items.length);
    const rounds: Array<Array<{ index: number; event: SmsEvent }>> = [];
    const seen = new Map<string, number>();

    for (const [index, item] of items.entries()) {
      const prepared = await this.prepareImportEvent(item, principal);
      if ('outcome' in prepared) {
        const { uuid, outcome, details } = prepared;
        results[index] = { index, uuid, outcome, details };
        continue;
      }
      const round = seen.get(prepared.uuid) ?? 0;
      seen.set(prepared.uuid, round + 1);
      (rounds[round] ??= []).push({ index, event: prepared });
    }

    for (const round of rounds) {
      const stored = await this.repository.recordEvents(round.map(({ event }) => event));
      round.forEach(({ index, event }, position) => {
        const outcome = this.classify(event, stored[position]);
        results[index] =
          outcome instanceof ApiException
            ? { index, uuid: event.uuid, outcome: 'conflict', details: outcome.details }
            : { index, uuid: event.uuid, outcome };
      });
    }

    const counts: Partial<Record<ImportOutcome, number>> = {};
    for (const result of results) counts[result.outcome] = (counts[result.outcome] ?? 0) + 1;
    return { results, counts };
  }

  /** Newest `limit` messages of `phone` (before the cursor), oldest first, seen from `phone`. */
  async getConversation(phone: string, options: PageOptions = {}): Promise<ConversationDto> {
    const party = this.parseParty(phone, 'phone_number', ANY_PARTY);
    const limit = options.limit ?? DEFAULT_CONVERSATION_LIMIT;
    const scope = `conversation:${party}`;
    const before = options.before ? this.decodeMessageCursor(options.before, scope) : undefined;
    const rows = await this.repository.findConversation(party, limit + 1, before);
    const page = rows.slice(0, limit);
    const oldest = page.at(-1);
    const messages = page.reverse().map((row) => {
      const sent = row.senderPhone === party;
      return {
        phone_number: sent ? row.receiverPhone : row.senderPhone,
        message_text: row.text,
        timestamp: row.occurredAt,
        direction: sent ? ('sent' as const) : ('received' as const),
      };
    });
    // The contract's answer has no cursor; it only appears when there is more.
    if (rows.length <= limit || !oldest) return { messages };
    return {
      messages,
      nextCursor: encodeCursor(scope, { time: oldest.occurredAt, key: oldest.uuid }),
    };
  }

  /** A number's threads, most recent activity first. */
  async listConversations(phone: string, options: PageOptions = {}): Promise<ConversationsPageDto> {
    const owner = this.parseParty(phone, 'phone', ANY_PARTY);
    const limit = options.limit ?? DEFAULT_THREADS_LIMIT;
    const scope = `threads:${owner}`;
    const before = options.before ? decodeCursor(options.before, scope, 'before') : undefined;
    const rows = await this.repository.findConversations(
      owner,
      limit + 1,
      before && { time: before.time, counterpart: before.key },
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return {
      conversations: page.map((row) => toConversationSummaryDto(row, owner)),
      nextCursor:
        rows.length > limit && last
          ? encodeCursor(scope, { time: last.lastOccurredAt, key: last.counterpart })
          : null,
    };
  }

  /** One two-party thread: pages from newest to oldest, each oldest first. */
  async getThread(
    phone: string,
    counterpart: string,
    options: PageOptions & { since?: number; until?: number } = {},
  ): Promise<ThreadPageDto> {
    const party = this.parseParty(phone, 'phone', ANY_PARTY);
    const other = this.parseParty(counterpart, 'counterpart', ANY_PARTY);
    const limit = options.limit ?? DEFAULT_THREAD_LIMIT;
    // Either party's view of the thread pages the same way.
    const scope = `thread:${[party, other].sort().join(':')}`;
    const before = options.before ? this.decodeMessageCursor(options.before, scope) : undefined;
    const rows = await this.repository.findThread(party, other, limit + 1, {
      before,
      since: options.since,
      until: options.until,
    });
    const page = rows.slice(0, limit);
    const oldest = page.at(-1);
    return {
      messages: page.reverse().map((row) => toThreadMessageDto(row, party)),
      nextCursor:
        rows.length > limit && oldest
          ? encodeCursor(scope, { time: oldest.occurredAt, key: oldest.uuid })
          : null,
    };
  }

  /** One message, if the principal is one of its parties (404 otherwise: uuids are not probeable). */
  async getMessage(uuid: string, principal: Principal): Promise<MessageDto> {
    const row = await this.repository.findMessage(uuid);
    if (
      !row ||
      !(canActFor(principal, row.senderPhone) || canActFor(principal, row.receiverPhone))
    ) {
      throw ApiException.field(HttpStatus.NOT_FOUND, 'uuid', 'is not a message you can see');
    }
    return toMessageDto(row);
  }

  /** The outcome of one stored event, published to observers; a conflict comes back as its error. */
  private classify(event: SmsEvent, result: StoreResult): RecordOutcome | ApiException {
    const outcome =
      result.outcome === 'unchanged'
        ? (conflictFor(event, result.stored) ?? 'replayed')
        : result.outcome;
    this.events.publish({
      kind: event.kind,
      outcome: outcome instanceof ApiException ? 'conflict' : outcome,
      uuid: event.uuid,
      senderPhone: event.senderPhone,
      receiverPhone: event.receiverPhone,
    });
    return outcome;
  }

  private async prepareImportEvent(
    item: unknown,
    principal: Principal,
  ): Promise<SmsEvent | Pick<ImportResultDto, 'outcome' | 'uuid' | 'details'>> {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      return {
        outcome: 'invalid',
        details: [{ field: 'event', problem: 'must be a JSON object' }],
      };
    }
    const dto = plainToInstance(ImportEventDto, item);
    const errors = await validate(dto, {
      whitelist: true,
      forbidUnknownValues: true,
      stopAtFirstError: true,
    });
    const uuid = typeof dto.uuid === 'string' ? dto.uuid.toLowerCase() : undefined;
    if (errors.length > 0) return { outcome: 'invalid', uuid, details: toErrorDetails(errors) };
    let event: SmsEvent;
    try {
      event = this.toEvent(dto.type, dto);
    } catch (error) {
      if (error instanceof ApiException)
        return { outcome: 'invalid', uuid, details: error.details };
      throw error;
    }
    const reporter = REPORTER[event.kind];
    if (!canActFor(principal, event[reporter])) {
      return {
        outcome: 'forbidden',
        uuid,
        details: [{ field: reporter, problem: 'is not a number this key acts for' }],
      };
    }
    return event;
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

  /** Normalizes a party in a path, or answers 400 naming `field`. */
  parseParty(value: string, field: string, accept: PartyKind[]): string {
    const parsed = parsePartyAddress(value, { defaultCountry: this.defaultCountry, accept });
    if ('problem' in parsed)
      throw ApiException.field(HttpStatus.BAD_REQUEST, field, parsed.problem);
    return parsed.value;
  }

  private decodeMessageCursor(cursor: string, scope: string): MessagePosition {
    const position = decodeCursor(cursor, scope, 'before');
    return { time: position.time, uuid: position.key };
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
