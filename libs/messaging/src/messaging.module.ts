import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessageEvents } from './message-events.js';
import { ConversationsController } from './conversations.controller.js';
import { Conversation } from './conversation.entity.js';
import { Message } from './message.entity.js';
import { MessageRecordsController } from './message-records.controller.js';
import { MessagesController } from './messages.controller.js';
import { MessagesRepository } from './messages.repository.js';
import { ConversationsService } from './conversations.service.js';
import { MessageRecorder } from './message-recorder.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Message, Conversation])],
  controllers: [MessagesController, ConversationsController, MessageRecordsController],
  providers: [MessageRecorder, ConversationsService, MessagesRepository, MessageEvents],
  exports: [MessageRecorder, ConversationsService, MessagesRepository, MessageEvents],
})
export class MessagingModule {}
