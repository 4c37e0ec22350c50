import { Module } from '@nestjs/common';
import type { ConfigType } from '@nestjs/config';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '@app/auth';
import { GatewaysModule } from '@app/gateways';
import { MessagingModule } from '@app/messaging';
import { DestinationPolicy } from './delivery/destinations.js';
import { WebhookDispatcher } from './delivery/webhook-dispatcher.js';
import { WebhookSender } from './delivery/webhook-sender.js';
import { WebhookDelivery } from './webhook-delivery.entity.js';
import { WebhookDeliveryEvents } from './webhook-delivery-events.js';
import { WebhookEvent } from './webhook-event.entity.js';
import { Webhook } from './webhook.entity.js';
import { webhooksConfig } from './webhooks.config.js';
import { WebhooksController } from './webhooks.controller.js';
import { WebhooksRepository } from './webhooks.repository.js';
import { WebhooksService } from './webhooks.service.js';

/** Signed webhooks to the users' own systems (issue 11): endpoints, queue and delivery. */
@Module({
  imports: [
    TypeOrmModule.forFeature([Webhook, WebhookEvent, WebhookDelivery]),
    AuthModule,
    MessagingModule,
    GatewaysModule,
  ],
  controllers: [WebhooksController],
  providers: [
    WebhooksService,
    WebhooksRepository,
    WebhookDispatcher,
    WebhookDeliveryEvents,
    {
      provide: DestinationPolicy,
      inject: [webhooksConfig.KEY],
      useFactory: (config: ConfigType<typeof webhooksConfig>) => new DestinationPolicy(config),
    },
    {
      provide: WebhookSender,
      inject: [DestinationPolicy, webhooksConfig.KEY],
      useFactory: (destinations: DestinationPolicy, config: ConfigType<typeof webhooksConfig>) =>
        new WebhookSender(destinations, config.timeoutMs, config.concurrency),
    },
  ],
  // For the metrics.
  exports: [WebhookDeliveryEvents, WebhooksRepository],
})
export class WebhooksModule {}
