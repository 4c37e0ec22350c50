import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '@app/auth';
import { MessagingModule } from '@app/messaging';
import { OutboundModule } from '@app/outbound';
import { Gateway } from './gateway.entity.js';
import { gatewaysConfig } from './gateways.config.js';
import { GatewayWebhooksController } from './gateway-webhooks.controller.js';
import { GatewayWebhooks } from './gateway-webhooks.service.js';
import { GatewaysController } from './gateways.controller.js';
import { GatewaysService } from './gateways.service.js';
import { DeliveryWorker } from './outbound/delivery-worker.js';
import { GatewaySender } from './outbound/gateway-sender.entity.js';
import { OutboundRateWindow } from './outbound/outbound-rate-window.entity.js';
import { SenderPool } from './outbound/sender-pool.js';
import { PublicUrls } from './public-urls.js';
import { SecretBox } from './secrets/secret-box.js';
import { resolveSecretBox } from './secrets/secrets-key.js';
import { WebhookEvents } from './webhook-events.js';

/**
 * SMS gateways: connections, the webhooks they post received messages and
 * status reports to, and the workers that send through them.
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([Gateway, GatewaySender, OutboundRateWindow]),
    AuthModule,
    MessagingModule,
    OutboundModule,
  ],
  controllers: [GatewaysController, GatewayWebhooksController],
  providers: [
    GatewaysService,
    GatewayWebhooks,
    PublicUrls,
    WebhookEvents,
    SenderPool,
    DeliveryWorker,
    {
      provide: SecretBox,
      inject: [gatewaysConfig.KEY],
      useFactory: (config: ConfigType<typeof gatewaysConfig>) => resolveSecretBox(config),
    },
  ],
  // The secrets box seals webhook signing secrets too.
  exports: [WebhookEvents, SecretBox],
})
export class GatewaysModule {}
