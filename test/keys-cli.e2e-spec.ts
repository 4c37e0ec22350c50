import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import request from 'supertest';
import { randomPhone } from './factories/sms-event.factory.js';
import { createTestDatabase, type TestDatabase } from './setup/test-database.js';
import { startTestApp, type TestApp } from './setup/test-app.js';

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../', import.meta.url));

/**
 * The compiled operator CLI (`npm run keys`), spawned against a test database.
 * It is compiled into a folder of its own: `npm run build` would replace the
 * shared dist/ under whoever is using it.
 */
describe('The keys CLI (e2e)', () => {
  const buildDir = join(repoRoot, 'dist', `.keys-cli-e2e-${randomBytes(4).toString('hex')}`);
  const cli = join(buildDir, 'out', 'apps', 'api', 'src', 'cli', 'keys.js');
  let database: TestDatabase;

  beforeAll(async () => {
    await mkdir(buildDir, { recursive: true });
    await writeFile(
      join(buildDir, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../apps/api/tsconfig.app.json',
        compilerOptions: { outDir: './out', tsBuildInfoFile: './out/.tsbuildinfo' },
      }),
    );
    // Type errors are typecheck's business; tsc emits regardless, and the CLI must exist.
    await execFileAsync(
      process.execPath,
      [
        join(repoRoot, 'node_modules/@nestjs/cli/bin/nest.js'),
        'build',
        'api',
        '-p',
        // The Nest CLI takes the path relative to the workspace only.
        relative(repoRoot, join(buildDir, 'tsconfig.json')),
      ],
      { cwd: repoRoot },
    ).catch(() => undefined);
    await access(cli);
    database = await createTestDatabase();
  }, 180_000);

  afterAll(async () => {
    await database?.drop();
    await rm(buildDir, { recursive: true, force: true });
  });

  /** Exit code, stdout and stderr of one CLI run. */
  async function keys(
    ...args: string[]
  ): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await execFileAsync(process.execPath, [cli, ...args], {
        cwd: repoRoot,
        env: { PATH: process.env.PATH, NODE_ENV: 'test', DATABASE_URL: database.url },
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const failure = error as { code: number; stdout: string; stderr: string };
      return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
    }
  }

  it('creates a key that works over HTTP, lists it without its secret, and revokes it', async () => {
    const me = randomPhone();
    const created = await keys('create', '--label', "Alice's phone", '--phone', me, '--phone', me);
    expect(created.code, created.stderr).toBe(0);
    const key = JSON.parse(created.stdout);
    expect(key).toMatchObject({ label: "Alice's phone", phones: [me] });
    expect(key.key).toMatch(/^sms_[A-Za-z0-9_-]{43}$/);
    expect(created.stderr).toMatch(/only this once/);

    const listed = await keys('list');
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(key.id);
    expect(listed.stdout).toContain(`${key.key.slice(0, 10)}…`);
    expect(listed.stdout).not.toContain(key.key);

    let app: TestApp | undefined;
    try {
      app = await startTestApp({ DATABASE_URL: database.url });
      const conversation = () =>
        request(app!.baseUrl)
          .get(`/api/get-conversation/${encodeURIComponent(me)}`)
          .set('Authorization', `Bearer ${key.key}`);
      await conversation().expect(200);

      const revoked = await keys('revoke', key.id);
      expect(revoked.code, revoked.stderr).toBe(0);
      expect(revoked.stdout).toContain(`Revoked ${key.id}`);
      await expect
        .poll(async () => (await conversation()).status, { timeout: 5_000, interval: 100 })
        .toBe(401);
      expect((await keys('list')).stdout).toMatch(new RegExp(`${key.id}.*revoked`));
    } finally {
      await app?.close({ keepDatabase: true });
    }
  });

  it.each([
    [
      ['create', '--label', 'x', '--phone', 'not a number'],
      1,
      /phones\[0\] must be a phone number/,
    ],
    [['revoke', '0b7d6f0e-3c2a-4f57-9a3e-2f1d9c8b7a65'], 1, /matches no API key/],
    [['create', '--phone', '+12025550143'], 2, /needs --label/],
    [['frobnicate'], 2, /unknown command "frobnicate"/],
    [['create', '--colour', 'blue'], 2, /Unknown option '--colour'/],
  ])('refuses %j with exit code %i and a message', async (args, code, message) => {
    const result = await keys(...args);
    expect(result.code).toBe(code);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('prints its usage without arguments', async () => {
    const result = await keys();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/npm run keys -- create/);
  });
});
