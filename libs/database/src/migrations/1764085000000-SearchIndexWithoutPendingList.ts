import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * IDX_messages_search without GIN's pending list (`fastupdate = off`): each
 * insert puts its entries straight into the index.
 *
 * With the pending list, every insert appends to one list, and the insert that
 * fills it (4 MB) merges the whole list into the index while the others wait
 * on it: under 16 concurrent sends on PostgreSQL 15 the slowest send took
 * 370–1,290 ms with the list and 58–61 ms without, at the same rate (1,400–1,740
 * sends/s either way, pgbench, alternating). A search no longer scans the list
 * either. The entries already in the list are merged here, once.
 */
export class SearchIndexWithoutPendingList1764085000000 implements MigrationInterface {
  name = 'SearchIndexWithoutPendingList1764085000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER INDEX "IDX_messages_search" SET (fastupdate = off)`);
    await queryRunner.query(`SELECT gin_clean_pending_list('"IDX_messages_search"'::regclass)`);
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER INDEX "IDX_messages_search" RESET (fastupdate)`);
  }
}
