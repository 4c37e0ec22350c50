export * from './dto/session.dto.js';
export * from './live-event.js';
export * from './live-hub.js';
export * from './live.module.js';
export * from './web-page.module.js';
export * from './live.config.js';
