-- The baseline's own schema: the seed contract's one table, with the same
-- columns, checks and indexes as the app's `messages` (CreateMessages
-- migration), minus what later issues added (thread columns and index,
-- conversation summaries).
CREATE TABLE IF NOT EXISTS messages (
  uuid uuid PRIMARY KEY,
  sender_phone varchar(32) NOT NULL,
  receiver_phone varchar(32) NOT NULL,
  text text NOT NULL,
  encoding varchar(5) NOT NULL,
  segments smallint NOT NULL,
  sent_at timestamptz,
  received_at timestamptz,
  occurred_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT messages_has_event CHECK (sent_at IS NOT NULL OR received_at IS NOT NULL),
  CONSTRAINT messages_encoding CHECK (encoding IN ('GSM-7', 'UCS-2')),
  CONSTRAINT messages_text_length CHECK (char_length(text) BETWEEN 1 AND 1600)
);
CREATE INDEX IF NOT EXISTS messages_sender_time ON messages (sender_phone, occurred_at, uuid);
CREATE INDEX IF NOT EXISTS messages_receiver_time ON messages (receiver_phone, occurred_at, uuid);
