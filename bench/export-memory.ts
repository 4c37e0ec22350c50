// `npm run bench:export`: the app's memory while it exports one number's whole
// history, at 100,000 and at 1,000,000 messages (issue "Your data, your way").
// The built app (dist/) runs as production runs it, on a fresh database of the
// PostgreSQL server at DATABASE_URL (default: this machine's, 127.0.0.1:5432);
// the messages are loaded with SQL, then GET /api/phones/{phone}/export is read
// to the end as fast as this process can, while the app's RSS is sampled from
// /proc every 20 ms.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import pg from 'pg';
import { freePort, rssMb, startNodeProcess, startProdNodeFlags } from './lib/processes.js';

const SIZES = [100_000, 1_000_000];
const OWNER = '+12025550100';
const serverUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const withDatabase = (url: string, database: string) => {
  const parsed = new URL(url);
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

async function sql(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

/** `count` messages between OWNER and 1,000 counterparts, both directions, a minute apart. */
const insertMessages = (first: number, count: number) => `
  INSERT INTO messages (uuid, sender_phone, receiver_phone, text, encoding, segments, sent_at, received_at, occurred_at)
  SELECT md5('export-' || i)::uuid,
         CASE WHEN i % 2 = 0 THEN '${OWNER}' ELSE '+1303555' || lpad((i % 1000)::text, 4, '0') END,
         CASE WHEN i % 2 = 0 THEN '+1303555' || lpad((i % 1000)::text, 4, '0') ELSE '${OWNER}' END,
         'Exported message ' || i || ': running 10 minutes late, see you soon, "quoted", with a comma',
         'GSM-7', 1, to_timestamp(1600000000 + i * 60), to_timestamp(1600000000 + i * 60 + 3),
         to_timestamp(1600000000 + i * 60)
  FROM generate_series(${first}, ${first + count - 1}) AS i`;

async function main(): Promise<void> {
  const database = `sms_export_bench_${Date.now()}`;
  await sql(serverUrl, [`CREATE DATABASE ${database}`]);
  const url = withDatabase(serverUrl, database);
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
      DATABASE_URL: url,
      ADMIN_API_KEY: adminKey,
      SECRETS_KEY: randomBytes(32).toString('base64'),
      SWAGGER_ENABLED: 'false',
      LOG_LEVEL: 'warn',
    },
    port,
    probePath: '/api/health/live',
  });
  const lines: string[] = [];
  try {
    let loaded = 0;
    for (const size of SIZES) {
      await sql(url, [
        'SET synchronous_commit = off',
        insertMessages(loaded + 1, size - loaded),
        'VACUUM (ANALYZE) messages',
      ]);
      loaded = size;
      const idle = rssMb(app.pid) ?? 0;
      let peak = idle;
      const sampler = setInterval(() => (peak = Math.max(peak, rssMb(app.pid) ?? 0)), 20);
      const started = Date.now();
      let bytes = 0;
      let rows = 0;
      const response = await fetch(
        `${app.url}/api/phones/${encodeURIComponent(OWNER)}/export?format=ndjson`,
        { headers: { Authorization: `Bearer ${adminKey}` } },
      );
      if (response.status !== 200) throw new Error(`export answered ${response.status}`);
      // The peak so far at each tenth of the rows: flat memory levels off, a leak climbs.
      const peakByTenth: number[] = [];
      for await (const chunk of response.body!) {
        bytes += chunk.length;
        for (const byte of chunk) if (byte === 10) rows += 1;
        while (rows >= ((peakByTenth.length + 1) * size) / 10) peakByTenth.push(peak);
      }
      clearInterval(sampler);
      const seconds = (Date.now() - started) / 1000;
      if (rows !== size) throw new Error(`exported ${rows} rows of ${size}`);
      lines.push(
        `| ${size.toLocaleString('en-US')} | ${(bytes / 1024 / 1024).toFixed(0)} MB | ${seconds.toFixed(1)} s | ` +
          `${Math.round(rows / seconds).toLocaleString('en-US')} | ${idle} MB | ${peak} MB | ${peakByTenth.join(', ')} |`,
      );
      console.log(lines.at(-1));
    }
  } finally {
    await app.stop();
    await sql(serverUrl, [`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`]);
  }
  console.log(
    [
      '',
      `Export of one number's history, NDJSON, ${new Date().toISOString()}, Node ${process.version}`,
      '',
      '| messages | body | time | messages/s | app RSS before | app RSS peak | peak so far at each tenth of the rows, MB |',
      '|--:|--:|--:|--:|--:|--:|---|',
      ...lines,
    ].join('\n'),
  );
}

await main();
