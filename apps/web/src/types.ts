import type { components } from './api-schema.js';

/** The API's shapes, as generated from swagger.yaml (`npm run openapi:types`), by the names the page uses. */
type Schemas = components['schemas'];

export type Session = Schemas['SessionDto'];
export type ConversationSummary = Schemas['ConversationSummaryDto'];
export type ConversationsPage = Schemas['ConversationsPageDto'];
export type ThreadMessage = Schemas['ThreadMessageDto'];
export type ThreadPage = Schemas['ThreadPageDto'];
export type Status = ThreadMessage['status'];
export type ErrorBody = Schemas['ErrorBody'];
export type SendSmsBody = Schemas['SmsEventDto'];
export type SendMessageBody = Schemas['SendMessageDto'];
export type SendAccepted = Schemas['SendAcceptedDto'];
export type MessageRecord = Schemas['MessageDto'];
export type Delivery = Schemas['DeliveryDto'];
export type OptOut = Schemas['OptOutDto'];
export type SearchHit = Schemas['SearchHitDto'];
export type SearchPage = Schemas['SearchPageDto'];
export type ImportRequest = Schemas['ImportRequestDto'];
export type ImportResponse = Schemas['ImportResponseDto'];
