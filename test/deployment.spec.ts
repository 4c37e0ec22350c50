import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { ENVIRONMENT_VARIABLE_NAMES } from '../apps/api/src/config/environment.js';
import { compileComposeValidator } from './setup/compose-schema.js';

// Static checks of the deployment files: they are not exercised by any other
// test, so a typo or a forgotten variable would only show up at `docker compose up`.

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');

type Service = {
  environment?: Record<string, unknown> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  healthcheck?: { test?: unknown };
  volumes?: unknown[];
};
type Compose = {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
};

const compose = parse(read('docker-compose.yml')) as Compose;

/** Names from either form Compose accepts: `{ NAME: value }` or `['NAME=value']`. */
function environmentNames(service: Service): string[] {
  const environment = service.environment ?? {};
  return Array.isArray(environment)
    ? environment.map((entry) => entry.split('=')[0])
    : Object.keys(environment);
}

describe('docker-compose.yml', () => {
  const validate = compileComposeValidator();

  it('follows the Compose Specification', () => {
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('is checked strictly enough for a broken file to fail', () => {
    const badPorts = structuredClone(compose) as Compose & { services: { app: object } };
    badPorts.services.app = { ...badPorts.services.app, ports: 3000 };
    expect(validate(badPorts)).toBe(false);

    expect(validate({ ...compose, servics: {} })).toBe(false);
  });

  it('passes the app only variables the app reads', () => {
    const names = environmentNames(compose.services.app);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect(ENVIRONMENT_VARIABLE_NAMES, `${name} is not read by the app`).toContain(name);
    }
  });

  it('starts the app only once PostgreSQL accepts connections', () => {
    // The app runs its migrations on boot, so a merely started container is not enough.
    expect(compose.services.app.depends_on).toEqual({
      postgres: expect.objectContaining({ condition: 'service_healthy' }),
    });
    expect(compose.services.postgres.healthcheck?.test).toBeDefined();
  });

  it('keeps the database in a named volume', () => {
    // A named volume survives `docker compose down`; an anonymous one is lost. PostgreSQL 18+
    // images keep their data under /var/lib/postgresql (no longer .../data).
    const mounts = (compose.services.postgres.volumes ?? []).map((mount) =>
      String(mount).split(':'),
    );
    const source = mounts.find(([, target]) => target === '/var/lib/postgresql')?.[0];
    expect(source, 'nothing mounted at /var/lib/postgresql').toBeDefined();
    expect(Object.keys(compose.volumes ?? {})).toContain(source);
  });
});

describe('Dockerfile', () => {
  // Instruction keyword and arguments of each line, e.g. ['USER', 'node'].
  const instructions = read('Dockerfile')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .map(([keyword, ...args]) => [keyword.toUpperCase(), ...args]);

  it('builds in a separate stage, so dev dependencies stay out of the image', () => {
    expect(instructions.filter(([keyword]) => keyword === 'FROM').length).toBeGreaterThanOrEqual(2);
  });

  it('builds and runs on Node 24, the current LTS', () => {
    const images = instructions.filter(([keyword]) => keyword === 'FROM').map(([, image]) => image);
    expect(images.length).toBeGreaterThan(0);
    for (const image of images) expect(image).toMatch(/^node:24[.-]/);
  });

  it('runs the app as a non-root user', () => {
    // The last FROM starts the runtime stage; its last USER is the one the app runs as.
    const runtimeStage = instructions.slice(instructions.findLastIndex(([k]) => k === 'FROM'));
    const user = runtimeStage.findLast(([keyword]) => keyword === 'USER')?.[1];
    expect(user, 'no USER in the runtime stage').toBeDefined();
    expect(['root', '0']).not.toContain(user?.split(':')[0]);
  });
});

describe('how the app is started', () => {
  const nodeFlags = (command: string[]) => command.filter((part) => part.startsWith('--'));
  const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;

  it('gets the same Node flags from the image, npm start and npm run start:prod', () => {
    const cmd = read('Dockerfile')
      .split('\n')
      .findLast((line) => line.startsWith('CMD '));
    const image = nodeFlags(JSON.parse(cmd!.slice(4)) as string[]);
    expect(image).toEqual([
      '--max-semi-space-size=16',
      '--no-allocation-site-pretenuring',
      '--no-page-promotion',
      '--heap-growing-percent=50',
    ]);
    expect(nodeFlags(scripts.start.split(' '))).toEqual(image);
    expect(nodeFlags(scripts['start:prod'].split(' '))).toEqual(image);
  });
});

describe('.env.example', () => {
  it('lists exactly the variables the app reads', () => {
    // Set (`NAME=`) or shown commented out (`# NAME=`) when the default is "unset".
    const listed = read('.env.example')
      .split('\n')
      .map((line) => /^#?\s*([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
      .filter((name) => name !== undefined);
    expect(listed.toSorted()).toEqual(ENVIRONMENT_VARIABLE_NAMES.toSorted());
  });
});

describe('README.md', () => {
  it('documents every variable in its configuration table', () => {
    const tableRows = readFileSync('README.md', 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('|'));
    const missing = ENVIRONMENT_VARIABLE_NAMES.filter(
      (name) => !tableRows.some((row) => row.includes(`\`${name}\``)),
    );
    expect(missing).toEqual([]);
  });
});
