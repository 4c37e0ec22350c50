import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the receiver got. */
export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** What the receiver did with it. */
  answer: ReceiverMode;
}

/**
 * - `accept`: 200; `fail`: 500 with a short body; `gone`: 410;
 * - `hang`: never answers (the sender's timeout ends it);
 * - `slow`: answers 200 after `slowMs`.
 */
export type ReceiverMode = 'accept' | 'fail' | 'gone' | 'hang' | 'slow';

export interface WebhookReceiver {
  url: string;
  port: number;
  /** Every request, in arrival order. */
  received: ReceivedWebhook[];
  /** How the next requests are answered; `script` wins while it has entries. */
  mode: ReceiverMode;
  /** Answers for the next requests, one each, before `mode` applies again. */
  script: ReceiverMode[];
  slowMs: number;
  /** Requests answered 2xx, in arrival order. */
  accepted(): ReceivedWebhook[];
  close(): Promise<void>;
}

/** A local HTTP receiver for webhook deliveries, scripted to fail, time out and recover. */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const hanging = new Set<() => void>();
  const receiver: WebhookReceiver = {
    url: '',
    port: 0,
    received: [],
    mode: 'accept',
    script: [],
    slowMs: 0,
    accepted: () =>
      receiver.received.filter((item) => item.answer === 'accept' || item.answer === 'slow'),
    close: async () => {
      for (const release of hanging) release();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const answer = receiver.script.shift() ?? receiver.mode;
      receiver.received.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        answer,
      });
      switch (answer) {
        case 'accept':
          return response.writeHead(200).end('ok');
        case 'fail':
          return response.writeHead(500).end('receiver broke');
        case 'gone':
          return response.writeHead(410).end();
        case 'slow':
          setTimeout(() => response.writeHead(204).end(), receiver.slowMs);
          return;
        case 'hang': {
          // Held until the sender gives up (its timeout) or the receiver closes.
          const release = () => response.destroy();
          hanging.add(release);
          response.on('close', () => hanging.delete(release));
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}/hooks/sms`;
  return receiver;
}
