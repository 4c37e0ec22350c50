import { type ChangedMessageRow, type DeliveryStatus, toThreadMessageDto } from '@app/messaging';
import type { ThreadMessageDto } from '@app/messaging';
import type { WebhookEventType } from '../webhook-event-types.js';
import type { ClaimedEvent } from '../webhooks.repository.js';

/** What a receiver gets: Standard Webhooks' `type`, `timestamp` and `data`, with the event's id. */
export interface WebhookEventBody {
  /** Also the `webhook-id` header: the same on every attempt, so receivers can deduplicate. */
  id: string;
  type: WebhookEventType;
  /** When the change happened, ISO 8601. */
  timestamp: string;
  data: {
    /** The number the message is seen from: `direction` is its. */
    phone: string;
    message: ThreadMessageDto;
  };
}

/**
 * The event as JSON: the message in the thread shape, as the change left it
 * (its times and delivery status as they were then) with the rest as stored
 * now, so an event of a message erased since carries no text or number.
 */
export function eventBody(event: ClaimedEvent, message: ChangedMessageRow): string {
  const body: WebhookEventBody = {
    id: event.eventId,
    type: event.type,
    timestamp: event.occurredAt.toISOString(),
    data: {
      phone: event.viewer,
      message: toThreadMessageDto(
        {
          ...message,
          sentAt: event.sentAt,
          receivedAt: event.receivedAt,
          deliveryStatus: event.deliveryStatus as DeliveryStatus | null,
        },
        event.viewer,
      ),
    },
  };
  return JSON.stringify(body);
}
