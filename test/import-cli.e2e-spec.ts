import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { type AddressInfo, createServer } from 'node:net';
import { randomBytes } from 'node:crypto';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import request from 'supertest';
import { startTestApp, type TestApp } from './setup/test-app.js';

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../', import.meta.url));
const xmlBackup = join(repoRoot, 'test/fixtures/import/sms-backup.xml');
/** The fixture's phone and the people in it. */
const OWNER = '+12025550143';
const BOB = '+12025550178';

const EXPORT_HEADER =
  'uuid,senderPhone,receiverPhone,text,direction,status,sentAt,receivedAt,timestamp,encoding,segments';

/**
 * `npm run import` against the whole app over HTTP. The CLI is a plain HTTP
 * client with no Nest in it, so it is compiled on its own with tsc into a
 * folder of this suite (never the shared dist/) and spawned as a child process.
 */
describe('The import CLI (e2e)', () => {
  const buildDir = join(repoRoot, 'dist', `.import-cli-e2e-${randomBytes(4).toString('hex')}`);
  const cli = join(buildDir, 'out', 'apps', 'api', 'src', 'cli', 'import.js');
  let testApp: TestApp;
  let admin: string;
  let ownerKey: string;

  beforeAll(async () => {
    await mkdir(buildDir, { recursive: true });
    await writeFile(
      join(buildDir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../apps/api/tsconfig.app.json',
        compilerOptions: { outDir: './out', incremental: false, sourceMap: false },
        files: ['../../apps/api/src/cli/import.ts'],
        include: [],
      }),
    );
    await execFileAsync(
      process.execPath,
      [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(buildDir, 'tsconfig.json')],
      { cwd: repoRoot },
    );
    await access(cli);
    testApp = await startTestApp();
    admin = testApp.adminKey;
    const created = await request(testApp.baseUrl)
      .post('/api/keys')
      .set('Authorization', `Bearer ${admin}`)
      .send({ label: "owner's phone", phones: [OWNER] })
      .expect(201);
    ownerKey = created.body.key;
  }, 180_000);

  afterAll(async () => {
    await testApp?.close();
    await rm(buildDir, { recursive: true, force: true });
  });

  /** Exit code, stdout and stderr of one CLI run; stderr is a pipe, so progress is plain lines. */
  async function importFile(
    args: string[],
    env: Record<string, string> = {},
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [cli, ...args], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, ...env },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failure = error as { code: number; stdout: string; stderr: string };
      return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
    }
  }

  const count = (stdout: string, outcome: string) =>
    Number(new RegExp(`^\\s+${outcome}\\s+(\\d+)`, 'm').exec(stdout)?.[1]);

  it('imports an SMS Backup & Restore file with a phone key, then replays it all', async () => {
    const args = ['--phone', OWNER, '--url', testApp.baseUrl, xmlBackup];
    const first = await importFile(args, { SMS_API_KEY: ownerKey });
    // The fixture holds one record without a date: reported, and the exit code says so.
    expect(first.code, first.stderr).toBe(1);
    expect(count(first.stdout, 'created')).toBe(3);
    expect(first.stdout).toMatch(/^\s+skipped\s+3 \(draft 1, failed 1, mms 1\)$/m);
    expect(first.stdout).toMatch(/^\s+unreadable\s+1$/m);
    expect(first.stdout).toMatch(/line 18: unreadable: date must be milliseconds since 1970/);
    expect(first.stderr).toMatch(/^batch 1: 3 events/m);

    const conversation = await request(testApp.baseUrl)
      .get(`/api/get-conversation/${encodeURIComponent(OWNER)}`)
      .set('Authorization', `Bearer ${ownerKey}`)
      .expect(200);
    expect(conversation.body.messages).toEqual([
      {
        phone_number: BOB,
        message_text: 'Running 10 minutes late',
        timestamp: 1764072000,
        direction: 'received',
      },
      {
        // Written "(202) 555-0178" in the backup: normalized by the service.
        phone_number: BOB,
        message_text: 'No worries 😀\nSee you at 7 & bring "the" book',
        timestamp: 1764072060,
        direction: 'sent',
      },
      {
        phone_number: '72345',
        message_text: "Your code is 481516. Don't share it.",
        timestamp: 1764072300,
        direction: 'received',
      },
    ]);

    const again = await importFile(args, { SMS_API_KEY: ownerKey });
    expect(again.code).toBe(1);
    expect(count(again.stdout, 'replayed')).toBe(3);
    expect(count(again.stdout, 'created')).toBe(0);
  });

  it('round-trips an NDJSON export with the admin key: a delivered message stays delivered', async () => {
    const dir = join(buildDir, 'files');
    await mkdir(dir, { recursive: true });
    const carol = '+12025550191';
    const rows = [
      {
        uuid: '7a1d2c3e-4f50-4a6b-8c7d-9e0f1a2b3c4d',
        senderPhone: OWNER,
        receiverPhone: carol,
        text: 'Dinner at 8?',
        direction: 'sent',
        status: 'delivered',
        sentAt: 1764080000,
        receivedAt: 1764080003,
        timestamp: 1764080000,
        encoding: 'GSM-7',
        segments: 1,
      },
      {
        uuid: null,
        senderPhone: carol,
        receiverPhone: OWNER,
        text: 'Sure 👍',
        direction: 'received',
        status: 'received',
        sentAt: null,
        receivedAt: 1764080060,
        timestamp: 1764080060,
        encoding: 'UCS-2',
        segments: 1,
      },
    ];
    const file = join(dir, 'export.ndjson');
    await writeFile(file, `${rows.map((row) => JSON.stringify(row)).join('\n')}\n\n`);
    const args = ['--url', testApp.baseUrl, '--key', admin, '--batch-size', '1', file];

    const first = await importFile(args);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    // The delivered message's two reports travel together even with a batch size of 1.
    expect([count(first.stdout, 'created'), count(first.stdout, 'merged')]).toEqual([2, 1]);

    const thread = await request(testApp.baseUrl)
      .get(
        `/api/phones/${encodeURIComponent(OWNER)}/conversations/${encodeURIComponent(carol)}/messages`,
      )
      .set('Authorization', `Bearer ${admin}`)
      .expect(200);
    expect(thread.body.messages).toMatchObject([
      {
        uuid: rows[0].uuid,
        text: 'Dinner at 8?',
        direction: 'sent',
        status: 'delivered',
        sentAt: 1764080000,
        receivedAt: 1764080003,
      },
      { text: 'Sure 👍', direction: 'received', status: 'received', receivedAt: 1764080060 },
    ]);

    const again = await importFile(args);
    expect(again.code).toBe(0);
    expect(count(again.stdout, 'replayed')).toBe(3);
    expect(count(again.stdout, 'created') + count(again.stdout, 'merged')).toBe(0);
  });

  it("imports a CSV export with a phone key: its own side only, the other party's skipped", async () => {
    const dave = '+12025550192';
    const file = join(buildDir, 'export.csv');
    await writeFile(
      file,
      [
        EXPORT_HEADER,
        `8b2e3d4f-5061-4b7c-9d8e-0f1a2b3c4d5e,${OWNER},${dave},"Hi Dave, it's ""me""\r\nnew line",sent,delivered,1764090000,1764090002,1764090000,GSM-7,1`,
        `9c3f4e50-6172-4c8d-8e9f-1a2b3c4d5e6f,${dave},${OWNER},,received,received,,1764090100,1764090100,GSM-7,1`,
        '',
      ].join('\r\n'),
    );
    const result = await importFile(['--url', testApp.baseUrl, '--key', ownerKey, file]);
    expect(result.code).toBe(1);
    expect(count(result.stdout, 'created')).toBe(1);
    expect(count(result.stdout, 'invalid')).toBe(1);
    expect(result.stdout).toMatch(/skipped\s+1 \(the other party's report/);
    expect(result.stdout).toMatch(
      /line 4 \(9c3f4e50-6172-4c8d-8e9f-1a2b3c4d5e6f\): invalid: messageText .*empty/,
    );
    const stored = await request(testApp.baseUrl)
      .get('/api/messages/8b2e3d4f-5061-4b7c-9d8e-0f1a2b3c4d5e')
      .set('Authorization', `Bearer ${ownerKey}`)
      .expect(200);
    expect(stored.body).toMatchObject({
      text: 'Hi Dave, it\'s "me"\r\nnew line',
      status: 'sent',
      receivedAt: null,
    });
  });

  it('exits 3 with a clear message when the service refuses the key, before reading the file', async () => {
    const result = await importFile(['--phone', OWNER, '--url', testApp.baseUrl, xmlBackup], {
      SMS_API_KEY: `sms_${'x'.repeat(43)}`,
    });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/the service refused the key \(401\)/);
    expect(result.stdout).toBe('');
  });

  it('exits 4 when the service cannot be reached', async () => {
    // A port that was free a moment ago: nothing listens there.
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    const result = await importFile([
      '--phone',
      OWNER,
      '--url',
      `http://127.0.0.1:${port}`,
      '--key',
      admin,
      '--retries',
      '1',
      xmlBackup,
    ]);
    expect(result.code).toBe(4);
    expect(result.stderr).toMatch(
      new RegExp(`cannot reach http://127\\.0\\.0\\.1:${port}: ECONNREFUSED`),
    );
  });

  it.each(['ndjson', 'csv'])(
    "round-trips the service's own %s export into another instance",
    async (format) => {
      // Messages in this instance, both directions, one with both sides and awkward text.
      const owner = `+1202555${String(Math.floor(Math.random() * 9000) + 1000)}`;
      const other = '+13035550100';
      const at = 1_764_100_000;
      const texts = ['plain', 'with, a comma', 'with "quotes"', 'line\r\nbreak', 'Café ☕'];
      for (const [index, text] of texts.entries()) {
        const mine = index % 2 === 0;
        const body = {
          senderPhone: mine ? owner : other,
          receiverPhone: mine ? other : owner,
          messageText: text,
          timestamp: at + index,
          uuid: crypto.randomUUID(),
        };
        await request(testApp.baseUrl)
          .post('/api/send-sms')
          .set('Authorization', `Bearer ${admin}`)
          .send(body)
          .expect(201);
        if (index === 0) {
          await request(testApp.baseUrl)
            .post('/api/receive-sms')
            .set('Authorization', `Bearer ${admin}`)
            .send({ ...body, timestamp: at + 3 })
            .expect(201);
        }
      }
      const exportOf = async (app: TestApp) =>
        (
          await request(app.baseUrl)
            .get(`/api/phones/${encodeURIComponent(owner)}/export?format=${format}`)
            .set('Authorization', `Bearer ${app.adminKey}`)
            .buffer(true)
            .parse((res, done) => {
              let text = '';
              res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
              res.on('end', () => done(null, text));
            })
            .expect(200)
        ).body as string;
      const exported = await exportOf(testApp);
      const file = join(buildDir, `round-trip.${format}`);
      await writeFile(file, exported);

      const second = await startTestApp();
      try {
        const first = await importFile(['--url', second.baseUrl, '--key', second.adminKey, file]);
        expect(first.code, first.stderr).toBe(0);
        // The same history, byte for byte: uuids, times, directions and statuses.
        expect(await exportOf(second)).toBe(exported);
        const again = await importFile(['--url', second.baseUrl, '--key', second.adminKey, file]);
        expect(again.code, again.stderr).toBe(0);
        // Five messages, one with both sides: six events, all known now.
        expect(count(again.stdout, 'replayed')).toBe(6);
        expect(count(again.stdout, 'created')).toBe(0);
      } finally {
        await second.close();
      }
    },
  );

  it.each([
    [['--key', 'k', 'backup.xml'], /an XML backup needs --phone/],
    [['--key', 'k', 'history.txt'], /cannot tell the format of history\.txt/],
    [
      ['--key', 'k', '--batch-size', '5000', 'a.csv'],
      /--batch-size must be a whole number from 1 to 1000/,
    ],
    [['a.csv'], /no API key: pass --key or set SMS_API_KEY/],
  ])('refuses %j with exit code 2', async (args, message) => {
    const result = await importFile(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });
});
