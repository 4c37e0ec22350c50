/** The API's answers, as the page uses them (see swagger.yaml for the full contract). */

export type Direction = 'sent' | 'received';
export type Status = 'sent' | 'received' | 'delivered';

export interface Session {
  isAdmin: boolean;
  phones: string[];
}

export interface LastMessage {
  uuid: string;
  text: string;
  /** Unix seconds. */
  timestamp: number;
  direction: Direction;
  status: Status;
}

export interface ConversationSummary {
  counterpart: string;
  lastMessage: LastMessage;
  messageCount: number;
}

export interface ConversationsPage {
  conversations: ConversationSummary[];
  nextCursor: string | null;
}

export interface ThreadMessage {
  uuid: string;
  senderPhone: string;
  receiverPhone: string;
  text: string;
  direction: Direction;
  status: Status;
  sentAt: number | null;
  receivedAt: number | null;
  /** The message's place in the thread: its first reported event, unix seconds. */
  timestamp: number;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
}

export interface ThreadPage {
  messages: ThreadMessage[];
  nextCursor: string | null;
}

export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: Array<{ field: string; problem: string }>;
}

export interface SendSmsBody {
  senderPhone: string;
  receiverPhone: string;
  messageText: string;
  timestamp: number;
  uuid: string;
}
