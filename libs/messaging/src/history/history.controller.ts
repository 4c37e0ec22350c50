import { ReadableStream, TextEncoderStream } from 'node:stream/web';
import { Controller, Get, Param, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
} from '@nestjs/swagger';
import { ActingParty, ActsFor } from '@app/auth';
import { ApiPartyParam, ErrorBody, type PartyClassification } from '@app/common';
import { ExportQueryDto, SearchPageDto, SearchQueryDto } from './dto/search.dto.js';
import { HistoryService } from './history.service.js';

const EXPORT_CONTENT_TYPES = {
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
} as const;

@ApiTags('history')
@ApiServiceUnavailableResponse({ type: ErrorBody, description: 'Database unreachable' })
@Controller('phones/:phone')
export class HistoryController {
  constructor(private readonly history: HistoryService) {}

  @Get('search')
  @ActsFor({ param: 'phone' })
  @ApiOperation({
    summary: "Search a number's messages: best match first, each with a highlighted snippet",
  })
  @ApiPartyParam('phone', '+12025550143')
  @ApiOkResponse({ type: SearchPageDto })
  @ApiBadRequestResponse({
    type: ErrorBody,
    description: 'No word to search for, not a phone number, bad limit, window or cursor',
  })
  search(
    @Param('phone') phone: string,
    @ActingParty() party: PartyClassification | undefined,
    @Query() query: SearchQueryDto,
  ): Promise<SearchPageDto> {
    return this.history.search(party ?? phone, query);
  }

  @Get('export')
  @ActsFor({ param: 'phone' })
  @ApiOperation({
    summary: 'Download every message of a number, oldest first (NDJSON or CSV, streamed)',
    description:
      'One consistent snapshot, streamed as it is read: each line (NDJSON) or row (CSV, RFC 4180, header row first) is a message in the thread shape, seen from the number. `npm run import` loads the file into another instance.',
  })
  @ApiPartyParam('phone', '+12025550143')
  @ApiProduces(EXPORT_CONTENT_TYPES.ndjson, EXPORT_CONTENT_TYPES.csv)
  @ApiOkResponse({ description: 'The messages, as NDJSON or CSV' })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'Not a phone number, or a bad format' })
  @ApiTooManyRequestsResponse({
    type: ErrorBody,
    description: 'Too many exports running on this instance',
  })
  export(
    @Param('phone') phone: string,
    @ActingParty() party: PartyClassification | undefined,
    @Query() query: ExportQueryDto,
  ): Response {
    const format = query.format ?? 'ndjson';
    const body = ReadableStream.from(this.history.export(party ?? phone, format)).pipeThrough(
      new TextEncoderStream(),
    );
    // Nest streams a Response's body with backpressure, and cancels it (which stops the
    // export's query) when the client goes away. node:stream/web's ReadableStream is the
    // global one; only the DOM and Node typings of it differ.
    return new Response(body as unknown as BodyInit, {
      headers: {
        'content-type': EXPORT_CONTENT_TYPES[format],
        'content-disposition': `attachment; filename="sms-${phone.replace(/[^0-9A-Za-z+]/g, '')}.${format}"`,
      },
    });
  }
}
