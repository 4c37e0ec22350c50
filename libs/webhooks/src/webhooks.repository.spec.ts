import { describe, expect, it, vi } from 'vitest';
import type { Sql } from '@app/database';
import { WebhooksRepository } from './webhooks.repository.js';

const failure = (code: string) => Object.assign(new Error(`SQLSTATE ${code}`), { code });

/** An Sql whose query answers each call in turn: an error to throw, or rows. */
function scriptedSql(...answers: Array<Error | 'ok'>) {
  const query = vi.fn(() => {
    const answer = answers.shift() ?? 'ok';
    return answer === 'ok' ? Promise.resolve({ rows: [] }) : Promise.reject(answer);
  });
  return { sql: { query } as unknown as Sql, query };
}

describe('WebhooksRepository.delete', () => {
  it('runs the deletion again when PostgreSQL broke a deadlock with it', async () => {
    const { sql, query } = scriptedSql(failure('40P01'), 'ok');
    await new WebhooksRepository(sql).delete('b1f7c2d0-0000-4000-8000-000000000001');
    expect(query).toHaveBeenCalledTimes(2);
  });

  it('gives up after three deadlocks in a row', async () => {
    const { sql, query } = scriptedSql(failure('40P01'), failure('40P01'), failure('40P01'));
    await expect(new WebhooksRepository(sql).delete('id')).rejects.toMatchObject({
      code: '40P01',
    });
    expect(query).toHaveBeenCalledTimes(3);
  });

  it('does not run it again for any other error', async () => {
    const { sql, query } = scriptedSql(failure('57014'));
    await expect(new WebhooksRepository(sql).delete('id')).rejects.toMatchObject({
      code: '57014',
    });
    expect(query).toHaveBeenCalledTimes(1);
  });
});
