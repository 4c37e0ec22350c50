// The deliver scenario's SMSC, in a process of its own (see lib/smsc-process.ts): the
// repository's test SMSC (test/support/smsc.ts, transpiled by the runner; its path is
// argv[2]), driven over IPC. Its CPU is then measured apart from the load generator's, and
// the load generator's event loop does not delay the `at` it records for each submit_sm.
import { pathToFileURL } from 'node:url';
import type { SmscMessage, SmscReply } from './smsc-process.js';

interface TestSmsc {
  url: string;
  port: number;
  submits: Array<{ text: string; at: number }>;
  sessions: number;
  receipts: string;
  close(): Promise<void>;
}

const [modulePath] = process.argv.slice(2);
const { startSmsc } = (await import(pathToFileURL(modulePath).href)) as {
  startSmsc(options: { systemId: string; password: string }): Promise<TestSmsc>;
};
const smsc = await startSmsc({
  systemId: process.env.SMSC_SYSTEM_ID ?? 'bench',
  password: process.env.SMSC_PASSWORD ?? 'bench',
});
smsc.receipts = process.env.SMSC_RECEIPTS ?? 'delivered';

const reply = (message: SmscReply): void => {
  process.send?.(message);
};
process.on('message', (message: SmscMessage) => {
  switch (message.type) {
    case 'count':
      reply({
        type: 'count',
        id: message.id,
        submits: smsc.submits.length,
        sessions: smsc.sessions,
      });
      return;
    case 'submits': {
      const slice = smsc.submits.slice(message.from);
      reply({
        type: 'submits',
        id: message.id,
        texts: slice.map((submit) => submit.text),
        at: slice.map((submit) => submit.at),
      });
      return;
    }
    case 'close':
      void smsc.close().finally(() => process.exit(0));
      return;
  }
});
process.on('disconnect', () => void smsc.close().finally(() => process.exit(0)));
reply({ type: 'ready', url: smsc.url, port: smsc.port });
