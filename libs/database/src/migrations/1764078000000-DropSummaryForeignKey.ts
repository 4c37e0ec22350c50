import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Thread summaries point at their newest message without a foreign key. The
 * key's check ran on every send, twice (both parties' summaries), and took a
 * row lock on the message it had just inserted: measured at 30–40 µs of
 * PostgreSQL CPU per send, about a tenth of it. The summary and its message
 * are written by the same statement (MessagesRepository), so the reference
 * holds by construction; whatever deletes messages must rewrite the
 * summaries that point at them.
 */
export class DropSummaryForeignKey1764078000000 implements MigrationInterface {
  name = 'DropSummaryForeignKey1764078000000';

  public async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "conversations" DROP CONSTRAINT "conversations_last_message_uuid_fkey"`,
    );
  }

  public async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `ALTER TABLE "conversations" ADD CONSTRAINT "conversations_last_message_uuid_fkey" FOREIGN KEY ("last_message_uuid") REFERENCES "messages" ("uuid")`,
    );
  }
}
