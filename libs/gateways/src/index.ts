export * from './gateways.module.js';
export * from './gateway.entity.js';
export * from './gateway-provider-name.js';
export * from './gateway-webhooks.controller.js';
export * from './webhook-events.js';
export * from './dto/gateway.dto.js';
export * from './dto/webhook-answer.dto.js';
export * from './secrets/secret-box.js';
