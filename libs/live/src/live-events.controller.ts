import { Controller, Headers, type MessageEvent, Param, Sse, SseSignal } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { Observable } from 'rxjs';
import { ActsFor, CurrentPrincipal, type Principal } from '@app/auth';
import { ApiPartyParam, ErrorBody } from '@app/common';
import { AuthorizationHeader } from './authorization-header.decorator.js';
import { LiveService } from './live.service.js';

@ApiTags('live')
@Controller('phones/:phone/events')
export class LiveEventsController {
  constructor(private readonly live: LiveService) {}

  @Sse()
  @ActsFor({ param: 'phone' })
  @ApiOperation({
    summary: "A number's messages as they are recorded or change (Server-Sent Events)",
    description: [
      'Events: `message.created` and `message.updated` (data: the message as the thread endpoint shows it), `ready` once the stream is live, `resync` when too much was missed to replay (reload, then carry on). A comment line every 15 s keeps proxies from closing the connection.',
      'Every event has an `id`; reconnect with `Last-Event-ID: <id>` to get what was missed in between (a few events you already have may come again: keep the one with the newest status per uuid).',
      '`EventSource` cannot send the Authorization header: read the stream with `fetch()` instead.',
    ].join('\n\n'),
  })
  @ApiPartyParam('phone', '+12025550143')
  @ApiHeader({
    name: 'Last-Event-ID',
    required: false,
    schema: { type: 'string', maxLength: 32 },
    description: 'The id of the last event received, to resume after it',
  })
  @ApiProduces('text/event-stream')
  @ApiOkResponse({ description: 'An event stream (text/event-stream) that stays open' })
  @ApiBadRequestResponse({
    type: ErrorBody,
    description: 'Not a number, or not one of our event ids',
  })
  @ApiServiceUnavailableResponse({ type: ErrorBody, description: 'Database unreachable' })
  events(
    @Param('phone') phone: string,
    @Headers('last-event-id') lastEventId: string | undefined,
    @AuthorizationHeader() authorization: string,
    @CurrentPrincipal() principal: Principal,
    @SseSignal() signal: AbortSignal,
  ): Promise<Observable<MessageEvent>> {
    return this.live.open(phone, lastEventId, { principal, authorization }, signal);
  }
}
