export * from './http/http-traffic.js';
export * from './http/request-id.js';
export * from './logging/logging.js';
export * from './metrics/metrics.js';
export * from './observability.module.js';
export * from './shutdown/graceful-shutdown.js';
export * from './http/request-context.js';
export * from './observability.config.js';
