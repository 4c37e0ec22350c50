import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ActingParty, ActsFor } from '@app/auth';
import { ApiPartyParam, ErrorBody, type PartyClassification } from '@app/common';
import {
  ConversationsPageDto,
  ConversationsQueryDto,
  ThreadPageDto,
  ThreadQueryDto,
} from './dto/conversations.dto.js';
import { ConversationsService } from './conversations.service.js';

@ApiTags('conversations')
@ApiBadRequestResponse({ type: ErrorBody, description: 'Not a phone number, bad limit or cursor' })
@ApiServiceUnavailableResponse({ type: ErrorBody, description: 'Database unreachable' })
@Controller('phones/:phone/conversations')
export class ConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  @Get()
  @ActsFor({ param: 'phone' })
  @ApiOperation({ summary: "A number's threads, most recent activity first (cursor-paged)" })
  @ApiPartyParam('phone', '+12025550143')
  @ApiOkResponse({ type: ConversationsPageDto })
  listConversations(
    @Param('phone') phone: string,
    @ActingParty() party: PartyClassification | undefined,
    @Query() query: ConversationsQueryDto,
  ): Promise<ConversationsPageDto> {
    return this.conversations.listConversations(party ?? phone, query);
  }

  @Get(':counterpart/messages')
  @ActsFor({ param: 'phone' })
  @ApiOperation({
    summary: 'One two-party thread: newest page first, oldest first within a page',
  })
  @ApiPartyParam('phone', '+12025550143')
  @ApiPartyParam('counterpart', '+12025550178')
  @ApiOkResponse({ type: ThreadPageDto })
  getThread(
    @Param('phone') phone: string,
    @ActingParty() party: PartyClassification | undefined,
    @Param('counterpart') counterpart: string,
    @Query() query: ThreadQueryDto,
  ): Promise<ThreadPageDto> {
    return this.conversations.getThread(party ?? phone, counterpart, query);
  }
}
