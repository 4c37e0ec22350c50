import type { CursorCodec, CursorKey, CursorPosition } from '@app/common';

/** A page request: how many, and the cursor of the previous page. */
export interface PageOptions {
  limit?: number;
  before?: string;
}

/**
 * Keyset paging, the same for every listing: the repository reads one row
 * more than the page, and that extra row is how we know there is a next
 * page. Cursors carry their listing's scope, so one listing's cursor is
 * refused by another.
 */
export class Paging {
  constructor(
    private readonly cursors: CursorCodec,
    /** Which listing, e.g. `conversation:+12025550143`. */
    private readonly scope: string,
    /** What breaks ties between equal times in this listing. */
    private readonly key: CursorKey,
    readonly limit: number,
  ) {}

  /** The position to read before, from the client's cursor; a 400 naming `before` if it is not ours. */
  startAt(before: string | undefined): CursorPosition | undefined {
    return before ? this.cursors.decode(before, this.scope, 'before', this.key) : undefined;
  }

  /** How many rows to ask the repository for. */
  get rowsToRead(): number {
    return this.limit + 1;
  }

  /**
   * Cuts `rows` (newest first, as read) to the page, in place, and gives the
   * cursor of the next page: the position of the page's last row, when more
   * rows exist.
   */
  page<Row>(
    rows: Row[],
    positionOf: (row: Row, index: number) => CursorPosition,
  ): { rows: Row[]; nextCursor?: string } {
    if (rows.length <= this.limit) return { rows };
    rows.length = this.limit;
    const last = this.limit - 1;
    return { rows, nextCursor: this.cursors.encode(this.scope, positionOf(rows[last], last)) };
  }
}
