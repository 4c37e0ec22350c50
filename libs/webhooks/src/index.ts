export * from './webhooks.module.js';
export * from './webhooks.config.js';
export * from './webhook.entity.js';
export * from './webhook-event.entity.js';
export * from './webhook-delivery.entity.js';
export * from './webhook-event-types.js';
export * from './delivery/destinations.js';
export * from './webhook-delivery-events.js';
export { WebhooksRepository } from './webhooks.repository.js';
