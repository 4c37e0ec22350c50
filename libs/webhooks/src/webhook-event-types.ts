/** The events a webhook can ask for. */
export const WEBHOOK_EVENT_TYPES = [
  'message.created',
  'message.updated',
  'message.erased',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Where an event stands in the queue. */
export const WEBHOOK_EVENT_STATES = ['pending', 'delivering', 'delivered', 'failed'] as const;
export type WebhookEventState = (typeof WEBHOOK_EVENT_STATES)[number];
