import { HttpStatus, Injectable } from '@nestjs/common';
import { canActFor, type Principal } from '@app/auth';
import { ApiException, CursorCodec, type PartyClassification, PhoneNumbers } from '@app/common';
import { type ConversationDto, DEFAULT_CONVERSATION_LIMIT } from './dto/conversation.dto.js';
import {
  type ConversationsPageDto,
  DEFAULT_THREAD_LIMIT,
  DEFAULT_THREADS_LIMIT,
  type ThreadPageDto,
  toConversationSummaryDto,
} from './dto/conversations.dto.js';
import { type MessageDto, toMessageDto, toThreadMessageDto } from './dto/message.dto.js';
import { MessagesRepository } from './messages.repository.js';
import { ANY_PARTY } from './messages.types.js';
import { type PageOptions, Paging } from './paging.js';

/** A number as the path gives it, or as the auth guard already read it (@ActingParty). */
export type PartyInput = string | PartyClassification;

/**
 * What people read: a number's conversation (the seed contract), its thread
 * list and its threads, and single messages. Every listing pages the same
 * way (Paging).
 */
@Injectable()
export class ConversationsService {
  constructor(
    private readonly repository: MessagesRepository,
    private readonly phones: PhoneNumbers,
    private readonly cursors: CursorCodec,
  ) {}

  /** Newest `limit` messages of `phone` (before the cursor), oldest first, seen from `phone`. */
  async getConversation(phone: PartyInput, options: PageOptions = {}): Promise<ConversationDto> {
    const party = this.phones.require(phone, 'phone_number', ANY_PARTY);
    const paging = new Paging(
      this.cursors,
      `conversation:${party}`,
      'uuid',
      options.limit ?? DEFAULT_CONVERSATION_LIMIT,
    );
    const before = paging.startAt(options.before);
    const { messages, uuids } = await this.repository.findConversation(
      party,
      paging.rowsToRead,
      before && { time: before.time, uuid: before.key },
    );
    const { rows, nextCursor } = paging.page(messages, (message, index) => ({
      time: message.timestamp,
      key: uuids[index],
    }));
    // Oldest first: the rows come newest first, already in the answer's shape.
    rows.reverse();
    // The contract's answer has no cursor; it only appears when there is more.
    return nextCursor === undefined ? { messages: rows } : { messages: rows, nextCursor };
  }

  /** A number's threads, most recent activity first. */
  async listConversations(
    phone: PartyInput,
    options: PageOptions = {},
  ): Promise<ConversationsPageDto> {
    const owner = this.phones.require(phone, 'phone', ANY_PARTY);
    const paging = new Paging(
      this.cursors,
      `threads:${owner}`,
      'party',
      options.limit ?? DEFAULT_THREADS_LIMIT,
    );
    const before = paging.startAt(options.before);
    const found = await this.repository.findConversations(
      owner,
      paging.rowsToRead,
      before && { time: before.time, counterpart: before.key },
    );
    const { rows, nextCursor } = paging.page(found, (row) => ({
      time: row.lastOccurredAt,
      key: row.counterpart,
    }));
    return {
      conversations: rows.map((row) => toConversationSummaryDto(row, owner)),
      nextCursor: nextCursor ?? null,
    };
  }

  /** One two-party thread: pages from newest to oldest, each oldest first. */
  async getThread(
    phone: PartyInput,
    counterpart: string,
    options: PageOptions & { since?: number; until?: number } = {},
  ): Promise<ThreadPageDto> {
    const party = this.phones.require(phone, 'phone', ANY_PARTY);
    const other = this.phones.require(counterpart, 'counterpart', ANY_PARTY);
    // Either party's view of the thread pages the same way.
    const paging = new Paging(
      this.cursors,
      `thread:${[party, other].sort().join(':')}`,
      'uuid',
      options.limit ?? DEFAULT_THREAD_LIMIT,
    );
    const before = paging.startAt(options.before);
    const window = { since: options.since, until: options.until };
    // The thread's opt-out is its current state, shown with its newest page.
    const { rows: found, optOut } = before
      ? {
          rows: await this.repository.findThread(party, other, paging.rowsToRead, {
            before: { time: before.time, uuid: before.key },
            ...window,
          }),
          optOut: undefined,
        }
      : await this.repository.findNewestThreadPage(party, other, paging.rowsToRead, window);
    const { rows, nextCursor } = paging.page(found, (row) => ({
      time: row.occurredAt,
      key: row.uuid,
    }));
    return {
      messages: rows.reverse().map((row) => toThreadMessageDto(row, party)),
      nextCursor: nextCursor ?? null,
      optOut: optOut ?? null,
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
}
