import {
  applyDecorators,
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  Post,
  Query,
  Res,
} from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import {
  ApiBadRequestResponse,
  ApiConflictResponse,
  ApiOkResponse,
  ApiCreatedResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { ActingParty, ActsFor } from '@app/auth';
import { ApiPartyParam, ErrorBody, type PartyClassification } from '@app/common';
import { ConversationDto, ConversationQueryDto, SmsAcceptedDto } from './dto/conversation.dto.js';
import { SmsEventDto } from './dto/sms-event.dto.js';
import { ConversationsService } from './conversations.service.js';
import { MessageRecorder } from './message-recorder.service.js';
import type { RecordOutcome } from './messages.types.js';

const SENT_BODY = { message: 'SMS sent successfully' } as const;
const RECEIVED_BODY = { message: 'SMS received successfully' } as const;

/** Errors every recording endpoint can answer with. */
const RecordingErrors = () =>
  applyDecorators(
    ApiBadRequestResponse({
      type: ErrorBody,
      description: 'Invalid field, malformed JSON or array body',
    }),
    ApiConflictResponse({
      type: ErrorBody,
      description: 'The uuid is stored with other content or another event time',
    }),
    ApiPayloadTooLargeResponse({ type: ErrorBody, description: 'Body over 64 KB' }),
    ApiUnsupportedMediaTypeResponse({
      type: ErrorBody,
      description: 'Body is not application/json',
    }),
    ApiServiceUnavailableResponse({
      type: ErrorBody,
      description: 'Database unreachable: nothing stored; see Retry-After',
    }),
  );

@ApiTags('messages')
@Controller()
export class MessagesController {
  constructor(
    private readonly recorder: MessageRecorder,
    private readonly conversations: ConversationsService,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  @Post('send-sms')
  @ActsFor({ body: 'senderPhone' })
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: "Record that a phone sent an SMS (the sender's report)" })
  @ApiCreatedResponse({ type: SmsAcceptedDto, description: 'First time this event is recorded' })
  @ApiOkResponse({ type: SmsAcceptedDto, description: 'The identical event was already recorded' })
  @RecordingErrors()
  async sendSms(
    @Body() event: SmsEventDto,
    @ActingParty() sender: PartyClassification | undefined,
    @Res({ passthrough: true }) response: unknown,
  ) {
    this.replyStatus(response, await this.recorder.record('sent', event, sender));
    return SENT_BODY;
  }

  @Post('receive-sms')
  @ActsFor({ body: 'receiverPhone' })
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({ summary: "Record that a phone received an SMS (the receiver's report)" })
  @ApiCreatedResponse({ type: SmsAcceptedDto, description: 'First time this event is recorded' })
  @ApiOkResponse({ type: SmsAcceptedDto, description: 'The identical event was already recorded' })
  @RecordingErrors()
  async receiveSms(
    @Body() event: SmsEventDto,
    @ActingParty() receiver: PartyClassification | undefined,
    @Res({ passthrough: true }) response: unknown,
  ) {
    this.replyStatus(response, await this.recorder.record('received', event, receiver));
    return RECEIVED_BODY;
  }

  @Get('get-conversation/:phone_number')
  @ActsFor({ param: 'phone_number' })
  @ApiOperation({
    summary: 'Every message in which a number takes part, oldest first',
    description:
      'Returns the newest `limit` messages, oldest first. An unknown number gets an empty list.',
  })
  @ApiPartyParam('phone_number', '+12025550143')
  @ApiOkResponse({ type: ConversationDto })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'Not a phone number, or a bad limit' })
  @ApiServiceUnavailableResponse({ type: ErrorBody })
  getConversation(
    @Param('phone_number') phoneNumber: string,
    @ActingParty() party: PartyClassification | undefined,
    @Query() query: ConversationQueryDto,
  ): Promise<ConversationDto> {
    return this.conversations.getConversation(party ?? phoneNumber, query);
  }

  /** A replayed event is not new: 200 instead of 201, same body. */
  private replyStatus(response: unknown, outcome: RecordOutcome): void {
    if (outcome === 'replayed') this.adapterHost.httpAdapter.status(response, HttpStatus.OK);
  }
}
