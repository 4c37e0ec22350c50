import { HttpStatus, Injectable } from '@nestjs/common';
import { plainToInstance } from 'class-transformer';
import { isUUID, validate } from 'class-validator';
import { canActFor, type Principal } from '@app/auth';
import {
  analyzeSms,
  ApiException,
  CompiledValidator,
  type ErrorDetail,
  type PartyClassification,
  PhoneNumbers,
  type PartyKind,
  resolveParty,
  toErrorDetails,
} from '@app/common';
import {
  ImportEventDto,
  type ImportOutcome,
  type ImportResponseDto,
  type ImportResultDto,
} from './dto/import.dto.js';
import type { SmsEventDto } from './dto/sms-event.dto.js';
import { MessageEvents } from './message-events.js';
import { MessagesRepository } from './messages.repository.js';
import {
  ACCEPTED_PARTIES,
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

/**
 * Records what phones report: one event (`send-sms`, `receive-sms`) or a
 * backlog of them (import), with the same rules for both. Idempotent by uuid:
 * the same event again is a replay; the other side's event completes the
 * message; anything that disagrees with what is stored is a conflict and
 * changes nothing.
 */
@Injectable()
export class MessageRecorder {
  constructor(
    private readonly repository: MessagesRepository,
    private readonly events: MessageEvents,
    private readonly phones: PhoneNumbers,
  ) {}

  /**
   * Records one side's report of a message. `reporter` is the reporting
   * party's number as the auth guard already read it (@ActingParty).
   */
  async record(
    kind: SmsEventKind,
    dto: SmsEventDto,
    reporter?: PartyClassification,
    options: RecordOptions = {},
  ): Promise<RecordOutcome> {
    const event = this.toEvent(kind, dto, reporter);
    const [result] = await this.repository.recordEvents([event]);
    const outcome = this.classify(event, result, options);
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

  /** The outcome of one stored event, published to observers; a conflict comes back as its error. */
  private classify(
    event: SmsEvent,
    result: StoreResult,
    options: RecordOptions = {},
  ): RecordOutcome | ApiException {
    const outcome =
      result.outcome === 'unchanged'
        ? (conflictFor(event, result.stored, options) ?? 'replayed')
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
    // The compiled rules take the valid events; the libraries say what is wrong with the others.
    let dto = CompiledValidator.for(ImportEventDto)?.accept(item);
    if (dto === undefined) {
      dto = plainToInstance(ImportEventDto, item);
      const errors = await validate(dto, {
        whitelist: true,
        forbidUnknownValues: true,
        stopAtFirstError: true,
      });
      if (errors.length > 0) {
        // Only a valid uuid is echoed, as the answer's schema says (format uuid).
        const uuid =
          typeof dto.uuid === 'string' && isUUID(dto.uuid) ? dto.uuid.toLowerCase() : undefined;
        return { outcome: 'invalid', uuid, details: toErrorDetails(errors) };
      }
    }
    const uuid = dto.uuid.toLowerCase();
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
  private toEvent(kind: SmsEventKind, dto: SmsEventDto, reporter?: PartyClassification): SmsEvent {
    const accepted = ACCEPTED_PARTIES[kind];
    const problems: ErrorDetail[] = [];
    const parse = (
      value: string,
      field: 'senderPhone' | 'receiverPhone',
      accept: PartyKind[],
    ): string => {
      const parsed =
        reporter !== undefined && field === REPORTER[kind]
          ? resolveParty(reporter, accept)
          : this.phones.parse(value, accept);
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
}

export interface RecordOptions {
  /**
   * The timestamp is when the event reached us, not the phone's own (a Twilio
   * webhook has none): a retry arrives later with the same message, so a
   * different time does not make it a conflict.
   */
  timeIsArrival?: boolean;
}

/** Why a stored message refuses this event; undefined when the event is a replay. */
export function conflictFor(
  event: SmsEvent,
  stored: StoredMessageEvents,
  options: RecordOptions = {},
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
  if (storedTime !== null && storedTime !== event.timestamp && !options.timeIsArrival) {
    return ApiException.field(
      HttpStatus.CONFLICT,
      'timestamp',
      `differs from the ${event.kind} time already recorded for this uuid (${storedTime})`,
    );
  }
  return undefined;
}
