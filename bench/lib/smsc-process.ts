// The SMSC of the deliver scenario as a child process (lib/smsc-child.ts): the repository's
// test SMSC, test/support/smsc.ts. bench/ compiles on its own (rootDir bench/), so the runner
// transpiles that one file with TypeScript (types are the tests' business) next to its
// snapshot of the app, and the child loads it from there.
import { fork } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import ts from 'typescript';
import type { Submit } from './deliver.js';

export type SmscMessage =
  { type: 'count'; id: number } | { type: 'submits'; id: number; from: number } | { type: 'close' };
export type SmscReply =
  | { type: 'ready'; url: string; port: number }
  | { type: 'count'; id: number; submits: number; sessions: number }
  | { type: 'submits'; id: number; texts: string[]; at: number[] };

export type SmscReceipts = 'delivered' | 'undeliverable' | 'none';

export interface SmscProcess {
  pid: number;
  /** smpp://<system_id>:<password>@127.0.0.1:<port> */
  url: string;
  /** submit_sm accepted so far, and bound sessions now. */
  count(): Promise<{ submits: number; sessions: number }>;
  /** The accepted submit_sm from index `from` on, in order of arrival. */
  submits(from?: number): Promise<Submit[]>;
  stop(): Promise<void>;
}

/** Writes test/support/smsc.ts as an ES module at `target` (a .mjs file). */
export async function transpileTestSmsc(source: string, target: string): Promise<void> {
  const { outputText } = ts.transpileModule(await readFile(source, 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    fileName: source,
  });
  await writeFile(target, outputText);
}

/** Starts lib/smsc-child.js (`childEntry`) on the transpiled SMSC module `smscModule`. */
export async function startSmscProcess(options: {
  childEntry: string;
  smscModule: string;
  systemId: string;
  password: string;
  receipts: SmscReceipts;
}): Promise<SmscProcess> {
  const child = fork(options.childEntry, [options.smscModule], {
    env: {
      ...process.env,
      SMSC_SYSTEM_ID: options.systemId,
      SMSC_PASSWORD: options.password,
      SMSC_RECEIPTS: options.receipts,
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const pending = new Map<number, (reply: SmscReply) => void>();
  let nextId = 0;
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const ready = await new Promise<{ url: string }>((resolve, reject) => {
    child.once('exit', (code, signal) =>
      reject(new Error(`the SMSC exited during start-up (${code ?? signal})`)),
    );
    child.on('message', (reply: SmscReply) => {
      if (reply.type === 'ready') resolve(reply);
      else pending.get(reply.id)?.(reply);
    });
  });
  const ask = <T extends SmscReply['type']>(
    message: SmscMessage & { id: number },
  ): Promise<Extract<SmscReply, { type: T }>> =>
    new Promise((resolve, reject) => {
      if (exited) {
        reject(new Error('the SMSC is gone'));
        return;
      }
      pending.set(message.id, (reply) => {
        pending.delete(message.id);
        resolve(reply as Extract<SmscReply, { type: T }>);
      });
      child.send(message);
    });
  if (child.pid === undefined) throw new Error('the SMSC has no pid');
  return {
    pid: child.pid,
    url: ready.url,
    async count() {
      const reply = await ask<'count'>({ type: 'count', id: nextId++ });
      return { submits: reply.submits, sessions: reply.sessions };
    },
    async submits(from = 0) {
      const reply = await ask<'submits'>({ type: 'submits', id: nextId++, from });
      return reply.texts.map((text, index) => ({ text, at: reply.at[index] }));
    },
    async stop() {
      if (exited) return;
      child.send({ type: 'close' });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(timer);
    },
  };
}
