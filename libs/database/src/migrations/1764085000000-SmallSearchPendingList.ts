import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * IDX_messages_search keeps GIN's pending list, at 256 kB instead of the
 * server's default 4 MB (`gin_pending_list_limit`).
 *
 * Inserts append their entries to the list, and the insert that fills it
 * merges the whole list into the index before it returns: with 4 MB, that
 * send waited 1.4–1.8 s. Measured with pgbench on PostgreSQL 15, 16 concurrent
 * sends and 8 concurrent 1000-message imports, alternating:
 *
 * | list | sends/s | slowest send | imports/s |
 * |---|--:|--:|--:|
 * | 4 MB (the default) | 1,480–1,750 | 1,430–1,760 ms | 6.4–8.4 |
 * | 256 kB | 1,480–1,770 | 158–446 ms | 6.7–9.1 |
 * | none (`fastupdate = off`) | 1,480–1,540 | 220–300 ms | 5.8–6.4 |
 *
 * A smaller list makes each merge a sixteenth as long at the same total cost;
 * no list at all costs bulk imports a quarter of their rate, since the list
 * is what lets GIN merge a batch's entries in key order.
 */
export class SmallSearchPendingList1764085000000 implements MigrationInterface {
  name = 'SmallSearchPendingList1764085000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER INDEX "IDX_messages_search" SET (gin_pending_list_limit = 256)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER INDEX "IDX_messages_search" RESET (gin_pending_list_limit)`);
  }
}
