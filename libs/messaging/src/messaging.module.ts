import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AdminKey, AuthModule } from '@app/auth';
import { CursorCodec } from '@app/common';
import { MessageEvents } from './message-events.js';
import { ConversationsController } from './conversations.controller.js';
import { Conversation } from './conversation.entity.js';
import { Message } from './message.entity.js';
import { MessageRecordsController } from './message-records.controller.js';
import { MessagesController } from './messages.controller.js';
import { MessagesRepository } from './messages.repository.js';
import { ConversationsService } from './conversations.service.js';
import { MessageRecorder } from './message-recorder.service.js';
import { HistoryController } from './history/history.controller.js';
import { HistoryRepository } from './history/history.repository.js';
import { HistoryService } from './history/history.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Message, Conversation]), AuthModule],
  controllers: [
    MessagesController,
    ConversationsController,
    MessageRecordsController,
    HistoryController,
  ],
  providers: [
    MessageRecorder,
    ConversationsService,
    MessagesRepository,
    HistoryService,
    HistoryRepository,
    MessageEvents,
    // Signed with a secret every instance derives alike from the admin key.
    {
      provide: CursorCodec,
      inject: [AdminKey],
      useFactory: (adminKey: AdminKey) => new CursorCodec(adminKey.deriveSecret('cursors')),
    },
  ],
  exports: [MessageRecorder, ConversationsService, MessagesRepository, MessageEvents],
})
export class MessagingModule {}
