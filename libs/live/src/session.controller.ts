import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, PerObjectAccess, type Principal } from '@app/auth';
import { SessionDto, toSessionDto } from './dto/session.dto.js';

@ApiTags('live')
@Controller('session')
export class SessionController {
  @Get()
  @PerObjectAccess()
  @ApiOperation({
    summary: 'What the key in use may do',
    description: 'Whether it is the admin key, and the numbers a phone key acts for.',
  })
  @ApiOkResponse({ type: SessionDto })
  getSession(@CurrentPrincipal() principal: Principal): SessionDto {
    return toSessionDto(principal);
  }
}
