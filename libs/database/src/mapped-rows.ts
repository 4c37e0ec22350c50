import pg from 'pg';

/**
 * Turns one row into what the caller keeps. `values` holds the row's columns,
 * parsed, in the statement's order; the same array is filled again for the
 * next row, so take what you need from it and do not keep it.
 */
export type RowMapper<Row extends unknown[], T> = (values: Row) => T;

type ValueParser = (text: string) => unknown;

interface RowDescription {
  fields: ReadonlyArray<{ dataTypeID: number; format?: string }>;
}

interface DataRow {
  fields: ReadonlyArray<string | null>;
}

/**
 * A statement whose rows go to a mapper as they arrive, for the hot listings
 * (get-conversation's 100 rows, a thread's page, the thread list).
 *
 * It is pg's own `Query` (the Submittable that `client.query` builds from a
 * config) with only the row handling replaced: sending, preparing a named
 * statement once per connection, errors and the protocol's sync stay pg's.
 * What it leaves out, per call: the copy of the config by property
 * descriptors, the `Result` (a parser table and an empty-row template per
 * call, an array per row, the command tag's regular expression) and a 'row'
 * event per row. Measured on get-conversation: see bench/README.md.
 *
 * It relies on the Submittable methods pg calls on a query
 * (`handleRowDescription`, `handleDataRow`, `handleReadyForQuery`,
 * `handleCommandComplete`, `handleError` and the callback); the e2e test
 * `mapped-rows.e2e-spec.ts` runs it against PostgreSQL so that a pg upgrade
 * changing them fails there.
 */
export class MappedRowsQuery<Row extends unknown[], T> extends pg.Query {
  /** Set by `client.query` (the pool's release), called once with the rows or the error. */
  declare callback?: (error: Error | null, rows?: T[]) => void;

  private readonly mapped: T[] = [];
  private parsers: ValueParser[] = [];
  /** The row being mapped, filled again for each row (pg's own `values` are the parameters). */
  private readonly columns: unknown[] = [];
  private failure?: Error;

  constructor(
    statement: { text: string; name?: string },
    parameters: unknown[],
    private readonly mapRow: RowMapper<Row, T>,
  ) {
    // The text alone: a config object would be copied property by property.
    super(statement.text);
    Object.assign(this, { name: statement.name, values: parameters });
  }

  handleRowDescription(message: RowDescription): void {
    this.parsers = message.fields.map(
      (field) =>
        pg.types.getTypeParser(field.dataTypeID, (field.format ?? 'text') as 'text') as ValueParser,
    );
  }

  handleDataRow(message: DataRow): void {
    if (this.failure) return;
    const { fields } = message;
    const { parsers, columns } = this;
    try {
      for (let index = 0; index < fields.length; index += 1) {
        const text = fields[index];
        columns[index] = text === null ? null : parsers[index](text);
      }
      this.mapped.push(this.mapRow(columns as Row));
    } catch (error) {
      // Reported once the server is ready again, as pg does for its own row parsing.
      this.failure = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** The command tag (`SELECT 100`) says nothing the rows did not. */
  handleCommandComplete(): void {}

  handleReadyForQuery(connection: unknown): void {
    if (this.failure) {
      (this as unknown as { handleError(error: Error, connection: unknown): void }).handleError(
        this.failure,
        connection,
      );
      return;
    }
    this.callback?.(null, this.mapped);
  }
}
