import { DataSource } from 'typeorm';
import { buildDataSourceOptions } from './database.options.js';

// For the TypeORM CLI (`npm run migration:*`): it needs a real server, so
// DATABASE_URL is required here even though the app can start an embedded one.
const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error('DATABASE_URL must be set to run TypeORM CLI commands');
}

export default new DataSource({
  ...buildDataSourceOptions({ url, poolSize: 1, statementTimeoutMs: 600_000 }),
  entities: ['dist/apps/api/libs/**/*.entity.js'],
});
