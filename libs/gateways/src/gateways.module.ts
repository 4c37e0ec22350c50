import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '@app/auth';
import { MessagingModule } from '@app/messaging';
import { Gateway } from './gateway.entity.js';
import { gatewaysConfig } from './gateways.config.js';
import { GatewayWebhooksController } from './gateway-webhooks.controller.js';
import { GatewayWebhooks } from './gateway-webhooks.service.js';
import { GatewaysController } from './gateways.controller.js';
import { GatewaysService } from './gateways.service.js';
import { PublicUrls } from './public-urls.js';
import { SecretBox } from './secrets/secret-box.js';
import { resolveSecretBox } from './secrets/secrets-key.js';
import { WebhookEvents } from './webhook-events.js';

/** SMS gateways that post received messages to the service: connections and their webhooks. */
@Module({
  imports: [TypeOrmModule.forFeature([Gateway]), AuthModule, MessagingModule],
  controllers: [GatewaysController, GatewayWebhooksController],
  providers: [
    GatewaysService,
    GatewayWebhooks,
    PublicUrls,
    WebhookEvents,
    {
      provide: SecretBox,
      inject: [gatewaysConfig.KEY],
      useFactory: (config: ConfigType<typeof gatewaysConfig>) => resolveSecretBox(config),
    },
  ],
  exports: [WebhookEvents],
})
export class GatewaysModule {}
