export * from './dto/conversation.dto.js';
export * from './dto/sms-event.dto.js';
export * from './message-events.js';
export * from './message.entity.js';
export * from './messages.service.js';
export * from './messages.types.js';
export * from './messaging.module.js';
