import { ApiProperty } from '@nestjs/swagger';
import { ApiUuid } from '@app/common';

export const WEBHOOK_OUTCOMES = ['recorded', 'replayed', 'status', 'ignored'] as const;
export type WebhookOutcome = (typeof WEBHOOK_OUTCOMES)[number];

/** The answer to a JSON provider's webhook (Twilio gets empty TwiML instead). */
export class WebhookAnswerDto {
  /**
   * `recorded`: a new received message; `replayed`: the gateway sent it before, nothing changed; `status`: a status report on a message sent through this connection, applied; `ignored`: an event that records nothing (a ping, a report on a message not sent here).
   * @example "recorded"
   */
  @ApiProperty({ enum: WEBHOOK_OUTCOMES })
  outcome: WebhookOutcome;
  /** The message's uuid, derived from the connection and the provider's message id. */
  @ApiUuid()
  uuid?: string;
}
