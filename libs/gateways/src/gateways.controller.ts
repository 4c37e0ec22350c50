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
  ApiBadRequestResponse,
  ApiCreatedResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
} from '@nestjs/swagger';
import { AdminOnly } from '@app/auth';
import { ApiUuidParam, ErrorBody } from '@app/common';
import { CreateGatewayDto, GatewayDto, GatewayListDto, toGatewayDto } from './dto/gateway.dto.js';
import { GatewaysService } from './gateways.service.js';
import { RequestOrigin } from './incoming-webhook.decorator.js';
import { PublicUrls } from './public-urls.js';

@ApiTags('gateways')
@AdminOnly()
@Controller('gateways')
export class GatewaysController {
  constructor(
    private readonly gateways: GatewaysService,
    private readonly urls: PublicUrls,
  ) {}

  @Post()
  @ApiOperation({
    summary: 'Connect an SMS gateway (Twilio, SMS Gateway for Android, textbee)',
    description:
      "The answer's webhookUrl goes into the gateway's settings, with the same secret. The secret is stored encrypted and never shown again.",
  })
  @ApiCreatedResponse({ type: GatewayDto })
  @ApiBadRequestResponse({
    type: ErrorBody,
    description: 'Invalid provider, label, number or secret',
  })
  async create(
    @Body() body: CreateGatewayDto,
    @RequestOrigin() origin: string,
  ): Promise<GatewayDto> {
    const gateway = await this.gateways.create(body, (id) => this.urls.webhookUrl(id, origin));
    return toGatewayDto(gateway, this.urls.webhookUrl(gateway.id, origin));
  }

  @Get()
  @ApiOperation({ summary: 'Every gateway connection, without secrets' })
  @ApiOkResponse({ type: GatewayListDto })
  async list(@RequestOrigin() origin: string): Promise<GatewayListDto> {
    const gateways = await this.gateways.list();
    return {
      gateways: gateways.map((gateway) =>
        toGatewayDto(gateway, this.urls.webhookUrl(gateway.id, origin)),
      ),
    };
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiUuidParam('id')
  @ApiOperation({
    summary: 'Disconnect a gateway',
    description: 'Its webhook answers 404 from then on; the messages it delivered stay.',
  })
  @ApiNoContentResponse({ description: 'Deleted' })
  @ApiBadRequestResponse({ type: ErrorBody, description: 'The id is not a UUID' })
  @ApiNotFoundResponse({ type: ErrorBody, description: 'No connection has this id' })
  remove(@Param('id', ParseUUIDPipe) id: string): Promise<void> {
    return this.gateways.remove(id);
  }
}
