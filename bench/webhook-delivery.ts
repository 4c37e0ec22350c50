// `npm run bench:webhooks`: how fast one instance delivers webhook events
// (issue "Your data, your way"). The built app (dist/) runs as production runs
// it, with WEBHOOK_ALLOW_PRIVATE for the receiver on loopback, on a fresh
// database of the PostgreSQL server at DATABASE_URL (default: this machine's,
// 127.0.0.1:5432). One webhook for every number points at a receiver in this
// process that answers 204 at once (or after RECEIVER_DELAY_MS); 20,000
// messages are imported through POST /api/messages/import, and the events are
// timed from the first import request to the last event received. Also the
// import's own rate (one request at a time), with the webhook on and, in the
// `off` run, without any webhook: the difference is what queueing the events
// costs the writes.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, startProdNodeFlags, startNodeProcess } from './lib/processes.js';

const MESSAGES = Number(process.env.MESSAGES ?? 20_000);
const BATCH = 1_000;
const RUNS = (process.env.RECEIVER_DELAY_MS ?? 'off,0,50').split(',');
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const withDatabase = (url: string, database: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

async function sql(url: string, statement: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(statement);
  } finally {
    await client.end();
  }
}

async function run(setting: string): Promise<string> {
  const webhook = setting !== 'off';
  const delayMs = webhook ? Number(setting) : 0;
  const database = `sms_webhook_bench_${Date.now()}`;
  await sql(serverUrl, `CREATE DATABASE ${database}`);
  let received = 0;
  let lastAt = 0;
  const receiver = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received += 1;
      lastAt = Date.now();
      setTimeout(() => response.writeHead(204).end(), delayMs);
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverPort = (receiver.address() as AddressInfo).port;
  const adminKey = randomBytes(30).toString('base64url');
  const port = await freePort();
  const app = await startNodeProcess({
    name: 'app',
    args: [
      ...(await startProdNodeFlags(process.cwd())),
      join('dist/apps/api/apps/api/src/main.js'),
    ],
    env: {
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: withDatabase(serverUrl, database),
      ADMIN_API_KEY: adminKey,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      SWAGGER_ENABLED: 'false',
      LOG_LEVEL: 'warn',
      THROTTLE_LIMIT: '1000000',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    },
    port,
    probePath: '/api/health/live',
  });
  const headers = { Authorization: `Bearer ${adminKey}`, 'Content-Type': 'application/json' };
  try {
    if (webhook) {
      const created = await fetch(`${app.url}/api/webhooks`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          url: `http://127.0.0.1:${receiverPort}/hook`,
          events: ['message.created'],
        }),
      });
      if (created.status !== 201) throw new Error(`POST /api/webhooks answered ${created.status}`);
    }
    const started = Date.now();
    for (let first = 0; first < MESSAGES; first += BATCH) {
      const events = Array.from({ length: BATCH }, (_, index) => ({
        type: 'sent',
        uuid: randomUUID(),
        senderPhone: `+1202555${String((first + index) % 10_000).padStart(4, '0')}`,
        receiverPhone: '+12025559999',
        messageText: `Webhook bench message ${first + index}`,
        timestamp: 1_764_000_000 + first + index,
      }));
      const response = await fetch(`${app.url}/api/messages/import`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ events }),
      });
      if (response.status !== 200) throw new Error(`import answered ${response.status}`);
    }
    const importSeconds = (Date.now() - started) / 1000;
    const importRate = `${Math.round(MESSAGES / importSeconds).toLocaleString('en-US')} msg/s`;
    if (!webhook)
      return `| no webhook | ${MESSAGES.toLocaleString('en-US')} | ${importRate} | — | — |`;
    const deadline = Date.now() + 600_000;
    while (received < MESSAGES && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (received < MESSAGES) throw new Error(`received ${received} of ${MESSAGES} events`);
    const seconds = (lastAt - started) / 1000;
    return (
      `| ${delayMs} ms | ${MESSAGES.toLocaleString('en-US')} | ${importRate} | ${seconds.toFixed(1)} s | ` +
      `${Math.round(MESSAGES / seconds).toLocaleString('en-US')} |`
    );
  } finally {
    await app.stop();
    receiver.close();
    await sql(serverUrl, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  }
}

const lines: string[] = [];
for (const setting of RUNS) {
  lines.push(await run(setting));
  console.log(lines.at(-1));
}
console.log(
  [
    '',
    `Webhook delivery, one instance, one webhook, ${new Date().toISOString()}, Node ${process.version}`,
    '',
    '| receiver answers after | events | import (one request at a time) | all delivered after | events/s |',
    '|--:|--:|--:|--:|--:|',
    ...lines,
  ].join('\n'),
);
