import { type CursorPosition, decodeCursor, encodeCursor } from '@app/common';

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
    /** Which listing, e.g. `conversation:+12025550143`. */
    private readonly scope: string,
    readonly limit: number,
  ) {}

  /** The position to read before, from the client's cursor; a 400 naming `before` if it is not ours. */
  startAt(before: string | undefined): CursorPosition | undefined {
    return before ? decodeCursor(before, this.scope, 'before') : undefined;
  }

  /** How many rows to ask the repository for. */
  get rowsToRead(): number {
    return this.limit + 1;
  }

  /**
   * The page's rows (newest first, as read) and the cursor of the next page:
   * the position of the page's last row, when more rows exist.
   */
  page<Row>(
    rows: Row[],
    positionOf: (row: Row) => CursorPosition,
  ): { rows: Row[]; nextCursor?: string } {
    if (rows.length <= this.limit) return { rows };
    const page = rows.slice(0, this.limit);
    return { rows: page, nextCursor: encodeCursor(this.scope, positionOf(page[page.length - 1])) };
  }
}
