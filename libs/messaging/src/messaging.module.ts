import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MessageEvents } from './message-events.js';
import { ConversationsController } from './conversations.controller.js';
import { Conversation } from './conversation.entity.js';
import { Message } from './message.entity.js';
import { MessageRecordsController } from './message-records.controller.js';
import { MessagesController } from './messages.controller.js';
import { MessagesRepository } from './messages.repository.js';
import { MessagesService } from './messages.service.js';

@Module({
  imports: [TypeOrmModule.forFeature([Message, Conversation])],
  controllers: [MessagesController, ConversationsController, MessageRecordsController],
  providers: [MessagesService, MessagesRepository, MessageEvents],
  exports: [MessagesService, MessageEvents],
})
export class MessagingModule {}
