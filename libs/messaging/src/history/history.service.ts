import { createHash } from 'node:crypto';
import { HttpStatus, Injectable } from '@nestjs/common';
import { ApiException, CursorCodec, PhoneNumbers } from '@app/common';
import type { PartyInput } from '../conversations.service.js';
import { type ThreadMessageDto, toThreadMessageDto } from '../dto/message.dto.js';
import { ANY_PARTY } from '../messages.types.js';
import { Paging } from '../paging.js';
import {
  DEFAULT_SEARCH_LIMIT,
  type ExportFormat,
  type SearchPageDto,
  type SearchQueryDto,
} from './dto/search.dto.js';
import { HistoryRepository } from './history.repository.js';
import { toSearchQuery, toSnippetHtml } from './search-query.js';

/** About how much text an export sends at a time. */
const EXPORT_CHUNK_CHARACTERS = 32 * 1024;

/** Exports one instance streams at a time; each holds a database connection of its own. */
export const MAX_RUNNING_EXPORTS = 4;

/** The export's columns: the thread message's fields, in this order (the CSV header). */
export const EXPORT_COLUMNS = [
  'uuid',
  'senderPhone',
  'receiverPhone',
  'text',
  'direction',
  'status',
  'sentAt',
  'receivedAt',
  'timestamp',
  'encoding',
  'segments',
] as const satisfies ReadonlyArray<keyof ThreadMessageDto>;

/** RFC 4180: a field with a comma, a quote or a line break is quoted, its quotes doubled. */
function csvField(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(message: ThreadMessageDto): string {
  return `${EXPORT_COLUMNS.map((column) => csvField(message[column])).join(',')}\r\n`;
}

function ndjsonLine(message: ThreadMessageDto): string {
  return `${JSON.stringify(message)}\n`;
}

/**
 * A number's whole history: search over it, and export of it. Both follow the
 * thread endpoints' key rules (the controller's @ActsFor) and show messages
 * in the thread shape, seen from the number.
 */
@Injectable()
export class HistoryService {
  private runningExports = 0;

  constructor(
    private readonly repository: HistoryRepository,
    private readonly phones: PhoneNumbers,
    private readonly cursors: CursorCodec,
  ) {}

  async search(phone: PartyInput, options: SearchQueryDto): Promise<SearchPageDto> {
    const party = this.phones.require(phone, 'phone', ANY_PARTY);
    const counterpart =
      options.counterpart === undefined
        ? undefined
        : this.phones.require(options.counterpart, 'counterpart', ANY_PARTY);
    const query = toSearchQuery(options.q);
    if (query === undefined) {
      throw ApiException.field(HttpStatus.BAD_REQUEST, 'q', 'has no letter or digit to search for');
    }
    // A cursor belongs to one search: the same number, words, thread and window.
    const searchId = createHash('sha256')
      .update(JSON.stringify([query, counterpart, options.since, options.until]))
      .digest('base64url')
      .slice(0, 22);
    const paging = new Paging(
      this.cursors,
      `search:${party}:${searchId}`,
      'ranked',
      options.limit ?? DEFAULT_SEARCH_LIMIT,
    );
    const start = paging.startAt(options.before);
    const [rank, uuid] = start ? start.key.split(':') : [];
    const found = await this.repository.search(party, query, paging.rowsToRead, {
      counterpart,
      since: options.since,
      until: options.until,
      before: start && { rank: Number(rank), time: start.time, uuid },
    });
    const { rows, nextCursor } = paging.page(found, (row) => ({
      time: row.message.occurredAt,
      key: `${row.rank}:${row.message.uuid}`,
    }));
    return {
      messages: rows.map((row) => ({
        ...toThreadMessageDto(row.message, party),
        snippet: toSnippetHtml(row.headline),
      })),
      nextCursor: nextCursor ?? null,
    };
  }

  /**
   * Every message in which the number takes part, oldest first, as NDJSON or
   * CSV text, a batch of rows per chunk. Refusals (a bad number, too many
   * exports running) come from the first chunk, before anything is sent, so
   * they are still JSON errors; the export slot is given back however the
   * stream ends.
   */
  async *export(phone: PartyInput, format: ExportFormat): AsyncGenerator<string> {
    const party = this.phones.require(phone, 'phone', ANY_PARTY);
    if (this.runningExports >= MAX_RUNNING_EXPORTS) {
      throw ApiException.field(
        HttpStatus.TOO_MANY_REQUESTS,
        'export',
        `is already running ${MAX_RUNNING_EXPORTS} times on this instance; try again shortly`,
      );
    }
    this.runningExports += 1;
    try {
      const line = format === 'csv' ? csvLine : ndjsonLine;
      // The CSV header goes with the first rows, once the database answered.
      const header = format === 'csv' ? `${EXPORT_COLUMNS.join(',')}\r\n` : '';
      let chunk = header;
      for await (const batch of this.repository.exportMessages(party)) {
        for (const row of batch) {
          chunk += line(toThreadMessageDto(row, party));
          // Chunks small enough for V8's young generation: a string over ~128 KB is
          // allocated where only a full collection frees it, and RSS would climb.
          if (chunk.length >= EXPORT_CHUNK_CHARACTERS) {
            yield chunk;
            chunk = '';
          }
        }
      }
      if (chunk) yield chunk;
    } finally {
      this.runningExports -= 1;
    }
  }
}
