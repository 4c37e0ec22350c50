import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiServiceUnavailableResponse,
  ApiTags,
} from '@nestjs/swagger';
import { AdminOnly } from '@app/auth';
import { ErrorBody } from '@app/common';
import { AuditPageDto, AuditQueryDto } from './dto/audit.dto.js';
import { AuditService } from './audit.service.js';

@ApiTags('privacy')
@AdminOnly()
@ApiServiceUnavailableResponse({ type: ErrorBody, description: 'Database unreachable' })
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  @Get()
  @ApiOperation({ summary: 'Erasures and retention runs, newest first (cursor-paged)' })
  @ApiOkResponse({ type: AuditPageDto })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'Bad limit or cursor' })
  list(@Query() query: AuditQueryDto): Promise<AuditPageDto> {
    return this.audit.list(query);
  }
}
