import { Module } from '@nestjs/common';
import { ApiKeysModule } from '@app/auth';
import { MessagingModule } from '@app/messaging';
import { LiveEventsController } from './live-events.controller.js';
import { LiveHub } from './live-hub.js';
import { LiveNotifier } from './live-notifier.js';
import { LiveRepository } from './live.repository.js';
import { LiveService } from './live.service.js';
import { SessionController } from './session.controller.js';

/**
 * Live updates: `GET /api/phones/{phone}/events` (Server-Sent Events), fed
 * across instances through PostgreSQL LISTEN/NOTIFY; and `GET /api/session`,
 * which tells the page what the key in use may see.
 */
@Module({
  imports: [MessagingModule, ApiKeysModule],
  controllers: [LiveEventsController, SessionController],
  providers: [LiveRepository, LiveHub, LiveNotifier, LiveService],
  exports: [LiveHub],
})
export class LiveModule {}
