import { Controller, Delete, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ActingParty, ActsFor, CurrentPrincipal, type Principal } from '@app/auth';
import { ApiPartyParam, ErrorBody, type PartyClassification } from '@app/common';
import { EraseQueryDto, ErasureResultDto } from './dto/erasure.dto.js';
import { ErasureService } from './erasure.service.js';

@ApiTags('privacy')
@ApiServiceUnavailableResponse({ type: ErrorBody, description: 'Database unreachable' })
@Controller('phones/:phone/messages')
export class ErasureController {
  constructor(private readonly erasure: ErasureService) {}

  @Delete()
  @ActsFor({ param: 'phone' })
  @ApiOperation({
    summary: 'Erase a number: its messages lose their text, and the number becomes a pseudonym',
    description:
      "Its counterparts keep their thread, with the pseudonym (`ERASED…`) as the other party and the same count; the number's own thread list, conversation and opt-outs are gone. Idempotent; a run cut short is completed by running it again. A phone key must pass `confirm`.",
  })
  @ApiPartyParam('phone', '+12025550143')
  @ApiOkResponse({ type: ErasureResultDto })
  @ApiBadRequestResponse({
    type: ErrorBody,
    description: 'Not a phone number, or `confirm` missing or not the number',
  })
  erase(
    @Param('phone') phone: string,
    @ActingParty() party: PartyClassification | undefined,
    @CurrentPrincipal() principal: Principal,
    @Query() query: EraseQueryDto,
  ): Promise<ErasureResultDto> {
    return this.erasure.erase(party ?? phone, principal, query.confirm);
  }
}
