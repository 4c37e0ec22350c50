import { Controller, HttpCode, HttpStatus, Param, ParseUUIDPipe, Post, Res } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBody,
  ApiConsumes,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiSecurity,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import { SignedBySender } from '@app/auth';
import { AcceptsRawBody, ApiUuidParam, ErrorBody } from '@app/common';
import { WebhookAnswerDto } from './dto/webhook-answer.dto.js';
import { GatewayWebhooks, type IncomingWebhook } from './gateway-webhooks.service.js';
import { InboundWebhook } from './incoming-webhook.decorator.js';

/** The webhook's path under the global prefix; its body parsers are set up per platform. */
export const GATEWAY_WEBHOOK_ROUTE = '/api/gateways/:id/webhook';

/** The OpenAPI security schemes of the providers' signatures (registered in app.setup). */
export const TWILIO_SIGNATURE = 'twilioSignature';
export const GATEWAY_SIGNATURE = 'gatewaySignature';

/** What both platforms' responses can do. */
interface HeaderSetter {
  header(name: string, value: string): unknown;
}

@ApiTags('gateways')
@ApiExtraModels(WebhookAnswerDto)
@Controller('gateways')
export class GatewayWebhooksController {
  constructor(private readonly webhooks: GatewayWebhooks) {}

  @Post(':id/webhook')
  @SignedBySender()
  @AcceptsRawBody()
  @HttpCode(HttpStatus.OK)
  @ApiUuidParam('id')
  @ApiOperation({
    summary: "A gateway's webhook: received SMS, in the provider's own format",
    description:
      "No API key: each request is authenticated by the provider's signature made with the connection's secret: `X-Twilio-Signature` (Twilio, form-encoded), `X-Signature` + `X-Timestamp` (SMS Gateway for Android, JSON), `X-Signature` (textbee, JSON). A received message is recorded like receive-sms; a retry or duplicate delivery is a replay. Bodies up to 64 KB.",
  })
  @ApiSecurity(TWILIO_SIGNATURE)
  @ApiSecurity(GATEWAY_SIGNATURE)
  @ApiConsumes('application/x-www-form-urlencoded', 'application/json')
  @ApiBody({
    description: "The provider's own webhook body, exactly as it sends it",
    schema: { type: 'object', additionalProperties: true, maxProperties: 200 },
  })
  @ApiOkResponse({
    description: 'Accepted: recorded, replayed or ignored (pings and status reports)',
    content: {
      'application/json': { schema: { $ref: getSchemaPath(WebhookAnswerDto) } },
      'text/xml': {
        schema: { type: 'string', maxLength: 100, example: '<Response/>' },
      },
    },
  })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'A malformed payload' })
  @ApiUnauthorizedResponse({ type: ErrorBody, description: 'A missing or invalid signature' })
  @ApiForbiddenResponse({
    type: ErrorBody,
    description: 'Sent to a number the connection does not list',
  })
  @ApiNotFoundResponse({ type: ErrorBody, description: 'No such connection, or it was deleted' })
  @ApiPayloadTooLargeResponse({ type: ErrorBody, description: 'Body over 64 KB' })
  @ApiUnsupportedMediaTypeResponse({
    type: ErrorBody,
    description: "Not the provider's media type",
  })
  @ApiTooManyRequestsResponse({
    type: ErrorBody,
    description: 'Too many invalid signatures from this address; see Retry-After',
  })
  @ApiServiceUnavailableResponse({ type: ErrorBody, description: 'Database unreachable; retry' })
  async receive(
    @Param('id', ParseUUIDPipe) id: string,
    @InboundWebhook() webhook: IncomingWebhook,
    @Res({ passthrough: true }) response: HeaderSetter,
  ): Promise<string> {
    const reply = await this.webhooks.receive(id, webhook);
    response.header('Content-Type', reply.contentType);
    return reply.body;
  }
}
