import { Injectable } from '@nestjs/common';
import { CursorCodec } from '@app/common';
import { type PageOptions, Paging } from '@app/messaging';
import { AuditRepository } from './audit.repository.js';
import { type AuditPageDto, DEFAULT_AUDIT_LIMIT, toAuditRecordDto } from './dto/audit.dto.js';

/** The audit listing, newest first, paged like every other listing. */
@Injectable()
export class AuditService {
  constructor(
    private readonly repository: AuditRepository,
    private readonly cursors: CursorCodec,
  ) {}

  async list(options: PageOptions = {}): Promise<AuditPageDto> {
    const paging = new Paging(this.cursors, 'audit', 'uuid', options.limit ?? DEFAULT_AUDIT_LIMIT);
    const before = paging.startAt(options.before);
    const rows = await this.repository.list(
      paging.rowsToRead,
      before && { time: before.time, id: before.key },
    );
    const { rows: page, nextCursor } = paging.page(rows, (row) => ({
      time: row.startedAt,
      key: row.id,
    }));
    return { records: page.map(toAuditRecordDto), nextCursor: nextCursor ?? null };
  }
}
