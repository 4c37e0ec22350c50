import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * A number's messages by last change (`updated_at`: insert, or the second
 * side's report), for the live stream's resumption: "what changed for this
 * number since Last-Event-ID" becomes one range scan per side, however long
 * the number's history. The price: two more indexes to maintain per write,
 * and a merge can no longer be a HOT update.
 */
export class IndexMessageChanges1764076000000 implements MigrationInterface {
  name = 'IndexMessageChanges1764076000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX "IDX_messages_sender_changes" ON "messages" ("sender_phone", "updated_at", "uuid")`,
    );
    await queryRunner.query(
      `CREATE INDEX "IDX_messages_receiver_changes" ON "messages" ("receiver_phone", "updated_at", "uuid")`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX "IDX_messages_receiver_changes"`);
    await queryRunner.query(`DROP INDEX "IDX_messages_sender_changes"`);
  }
}
