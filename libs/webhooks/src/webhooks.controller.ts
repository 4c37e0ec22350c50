import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiGoneResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, PerObjectAccess, type Principal } from '@app/auth';
import { ApiUuidParam, ErrorBody } from '@app/common';
import { DeliveryListDto, RedeliverParamsDto, RedeliveryDto } from './dto/delivery.dto.js';
import { CreatedWebhookDto, CreateWebhookDto, WebhookListDto } from './dto/webhook.dto.js';
import { WebhooksService } from './webhooks.service.js';

@ApiTags('webhooks')
@PerObjectAccess()
@Controller('webhooks')
export class WebhooksController {
  constructor(private readonly webhooks: WebhooksService) {}

  @Post()
  @ApiOperation({
    summary: 'Post message events to your own system',
    description:
      'Events: `message.created`, `message.updated` (status changes included), `message.erased`, signed by the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`). Delivered at least once, in order per message, retried for 24 hours; a 410 disables the webhook, and so do 3 days of failures. The secret is shown only in this answer.',
  })
  @ApiCreatedResponse({ type: CreatedWebhookDto })
  @ApiBadRequestResponse({
    type: ErrorBody,
    description: 'Invalid URL (or one on a private address), events or numbers',
  })
  @ApiForbiddenResponse({ type: ErrorBody, description: 'A number the key does not act for' })
  @ApiConflictResponse({ type: ErrorBody, description: 'The phone key has 25 webhooks already' })
  create(
    @Body() body: CreateWebhookDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<CreatedWebhookDto> {
    return this.webhooks.create(body, principal);
  }

  @Get()
  @ApiOperation({
    summary: 'The webhooks the key manages, without secrets',
    description:
      'Every webhook for the admin key; for a phone key, those whose numbers are all its own. A disabled webhook says why.',
  })
  @ApiOkResponse({ type: WebhookListDto })
  list(@CurrentPrincipal() principal: Principal): Promise<WebhookListDto> {
    return this.webhooks.list(principal);
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiUuidParam('id')
  @ApiOperation({ summary: 'Delete a webhook; its queued events go with it' })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorBody, description: 'No webhook the key manages has this id' })
  remove(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<void> {
    return this.webhooks.remove(id, principal);
  }

  @Get(':id/deliveries')
  @ApiUuidParam('id')
  @ApiOperation({ summary: "The webhook's last 100 attempts, newest first" })
  @ApiOkResponse({ type: DeliveryListDto })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorBody, description: 'No webhook the key manages has this id' })
  deliveries(
    @Param('id', ParseUUIDPipe) id: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<DeliveryListDto> {
    return this.webhooks.deliveries(id, principal);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiUuidParam('id')
  @ApiParam({
    name: 'deliveryId',
    description: "A delivery's id from the list",
    schema: { type: 'string', pattern: '^[1-9][0-9]{0,17}$', maxLength: 18, example: '1042' },
  })
  @ApiOperation({
    summary: "Deliver a delivery's event again",
    description:
      'The event goes back in the queue, due now, with the same id (receivers deduplicate by `webhook-id`) and a new 24 hours of retries.',
  })
  @ApiAcceptedResponse({ type: RedeliveryDto })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'A malformed id' })
  @ApiNotFoundResponse({ type: ErrorBody, description: 'No such webhook or delivery' })
  @ApiConflictResponse({ type: ErrorBody, description: 'The webhook is disabled' })
  @ApiGoneResponse({ type: ErrorBody, description: 'The event is no longer kept' })
  redeliver(
    @Param() params: RedeliverParamsDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<RedeliveryDto> {
    return this.webhooks.redeliver(params.id, params.deliveryId, principal);
  }
}
