import { Body, Controller, HttpCode, HttpStatus, Post, Res } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { ActingParty, ActsFor } from '@app/auth';
import { ErrorBody, type PartyClassification } from '@app/common';
import { SendAcceptedDto, SendMessageDto } from './dto/send-message.dto.js';
import { SendingService } from './sending.service.js';

@ApiTags('messages')
@Controller('messages')
export class SendingController {
  constructor(
    private readonly sending: SendingService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Post()
  @ActsFor({ body: 'from' })
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: "Send an SMS for real, through the outbound gateway of the 'from' number",
    description:
      'The message and its delivery job are stored together before the answer, so an accepted message is never lost. Follow it with GET /api/messages/{uuid}, the thread endpoints or the live stream (message.updated): queued → sending → sent → delivered or failed. Send the same uuid again to retry a request safely; for a failed message, that queues it again.',
  })
  @ApiAcceptedResponse({ type: SendAcceptedDto, description: 'Queued' })
  @ApiOkResponse({
    type: SendAcceptedDto,
    description: 'This uuid was already sent with this content: its current status',
  })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'Invalid field or malformed JSON' })
  @ApiConflictResponse({ type: ErrorBody, description: 'The uuid holds a different message' })
  @ApiUnprocessableEntityResponse({
    type: ErrorBody,
    description: "'from' has no outbound gateway, or 'to' opted out of messages from it (STOP)",
  })
  @ApiServiceUnavailableResponse({
    type: ErrorBody,
    description: 'Database unreachable: nothing queued',
  })
  async send(
    @Body() body: SendMessageDto,
    @ActingParty() from: PartyClassification | undefined,
    @Res({ passthrough: true }) response: unknown,
  ): Promise<SendAcceptedDto> {
    const { accepted, queued } = await this.sending.send(body, from);
    if (!queued) this.adapterHost.httpAdapter.status(response, HttpStatus.OK);
    return accepted;
  }
}
