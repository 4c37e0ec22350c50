import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  Param,
  ParseUUIDPipe,
  Post,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { CurrentPrincipal, PerObjectAccess, type Principal } from '@app/auth';
import { ApiUuidParam, ErrorBody } from '@app/common';
import { ImportRequestDto, ImportResponseDto } from './dto/import.dto.js';
import { MessageDto } from './dto/message.dto.js';
import { ConversationsService } from './conversations.service.js';
import { MessageRecorder } from './message-recorder.service.js';

/** The import route's own body limit: 1000 events of 1600 characters fit in 8 MB. */
export const IMPORT_BODY_LIMIT_BYTES = 8 * 1024 * 1024;
export const IMPORT_PATH = 'messages/import';

@ApiTags('messages')
@ApiServiceUnavailableResponse({ type: ErrorBody, description: 'Database unreachable' })
@Controller('messages')
export class MessageRecordsController {
  constructor(
    private readonly recorder: MessageRecorder,
    private readonly conversations: ConversationsService,
  ) {}

  @Post('import')
  @PerObjectAccess()
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Record up to 1000 send/receive events at once',
    description:
      'Each event follows the rules of send-sms/receive-sms and gets its own result; one bad event never spoils the others. Bodies up to 8 MB.',
  })
  @ApiOkResponse({ type: ImportResponseDto })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'Not a list of 1 to 1000 events' })
  @ApiPayloadTooLargeResponse({ type: ErrorBody, description: 'Body over 8 MB' })
  importEvents(
    @Body() body: ImportRequestDto,
    @CurrentPrincipal() principal: Principal,
  ): Promise<ImportResponseDto> {
    return this.recorder.import(body.events, principal);
  }

  @Get(':uuid')
  @PerObjectAccess()
  @ApiUuidParam('uuid')
  @ApiOperation({ summary: 'One message with its whole record' })
  @ApiOkResponse({ type: MessageDto })
  @ApiNotFoundResponse({ type: ErrorBody, description: 'No such message, or not one of yours' })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'Not a uuid' })
  getMessage(
    @Param('uuid', new ParseUUIDPipe({ version: 'all' })) uuid: string,
    @CurrentPrincipal() principal: Principal,
  ): Promise<MessageDto> {
    return this.conversations.getMessage(uuid, principal);
  }
}
