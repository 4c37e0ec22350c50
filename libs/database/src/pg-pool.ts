import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The `pg` pool behind a TypeORM DataSource. TypeORM has no public API for it,
 * so this reads its PostgreSQL driver's `master`, and fails at start-up, not on
 * the first query, if a TypeORM upgrade moved or renamed it.
 */
export function poolOf(dataSource: DataSource): Pool {
  const master = (dataSource.driver as { master?: unknown }).master;
  if (isPool(master)) return master;
  throw new Error(
    `Expected a pg Pool at driver.master of an initialized PostgreSQL DataSource (${typeormName()}), found ${kindOf(master)}. PG_POOL relies on this TypeORM internal: did an upgrade move it?`,
  );
}

// Duck-typed rather than `instanceof pg.Pool`: TypeORM may load its own copy of pg.
function isPool(value: unknown): value is Pool {
  const pool = (value ?? {}) as Record<string, unknown>;
  return (
    typeof pool.query === 'function' &&
    typeof pool.connect === 'function' &&
    typeof pool.on === 'function' &&
    typeof pool.totalCount === 'number'
  );
}

function kindOf(value: unknown): string {
  if (value === null || typeof value !== 'object') return String(value);
  return `a ${value.constructor?.name ?? 'object'}`;
}

function typeormName(): string {
  try {
    // typeorm's exports map hides package.json, so read it next to the entry point.
    const entry = createRequire(import.meta.url).resolve('typeorm');
    const manifest = JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8')) as {
      version?: string;
    };
    return manifest.version ? `TypeORM ${manifest.version}` : 'TypeORM';
  } catch {
    return 'TypeORM';
  }
}
