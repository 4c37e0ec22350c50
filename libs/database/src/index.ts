export * from './database-server.js';
export * from './database.module.js';
export * from './database.options.js';
export * from './migrate.js';
export * from './pg-pool.js';
export * from './database.config.js';
export * from './replica-reads.js';
export * from './sql.js';
