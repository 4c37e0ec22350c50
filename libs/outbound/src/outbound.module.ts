import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuthModule } from '@app/auth';
import { MessagingModule } from '@app/messaging';
import { KeptDeliveryReport } from './delivery-report.entity.js';
import { DeliveryReports } from './delivery-reports.service.js';
import { OutboundEvents } from './outbound-events.js';
import { OutboundMessage } from './outbound-message.entity.js';
import { OutboxRepository } from './outbox.repository.js';
import { SendingController } from './sending.controller.js';
import { SendingService } from './sending.service.js';

/**
 * Sending for real: POST /api/messages, the outbox its messages wait in, and
 * the status reports that move them on. The workers that hand messages to
 * providers live with the gateway connections (GatewaysModule).
 */
@Module({
  imports: [
    TypeOrmModule.forFeature([OutboundMessage, KeptDeliveryReport]),
    AuthModule,
    MessagingModule,
  ],
  controllers: [SendingController],
  providers: [SendingService, DeliveryReports, OutboxRepository, OutboundEvents],
  exports: [DeliveryReports, OutboxRepository, OutboundEvents],
})
export class OutboundModule {}
