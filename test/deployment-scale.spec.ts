import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Secret, Service } from 'kubernetes-models/v1';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { parse, parseAllDocuments } from 'yaml';
import { ENVIRONMENT_VARIABLE_NAMES } from '../apps/api/src/config/environment.js';
import { compileComposeValidator } from './setup/compose-schema.js';
import { HttpVariables } from '../apps/api/src/config/http.config.js';
import { DatabaseVariables } from '../libs/database/src/database.config.js';
import { LiveVariables } from '../libs/live/src/live.config.js';
import { ObservabilityVariables } from '../libs/observability/src/observability.config.js';

// Static checks of the files for more than one instance (docker-compose.scale.yml with its
// nginx, PgBouncer and PostgreSQL files under deploy/, the Kubernetes manifests) and of the
// documents that describe them: nothing else runs them, so a typo, a forgotten variable or a
// timeout that no longer fits would only show up in someone's deployment.

const read = (path: string): string => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const exists = (path: string): boolean => existsSync(new URL(`../${path}`, import.meta.url));

/** The operations the API serves, from swagger.yaml (generated from the controllers; CI checks it is fresh). */
const openApiPaths = (
  parse(read('swagger.yaml')) as { paths: Record<string, Record<string, { operationId: string }>> }
).paths;

function pathOf(operationId: string): string {
  const path = Object.keys(openApiPaths).find((candidate) =>
    Object.values(openApiPaths[candidate]).some((op) => op.operationId === operationId),
  );
  if (path === undefined) throw new Error(`swagger.yaml has no operation ${operationId}`);
  return path;
}

/** A concrete URL path for an OpenAPI template such as /api/phones/{phone}/events. */
const examplePath = (template: string): string => template.replace(/\{[^}]+\}/g, '%2B12025550143');

/** What the app assumes for a variable the environment leaves unset. */
const DEFAULTS: Record<string, unknown> = {
  ...new HttpVariables(),
  ...new DatabaseVariables(),
  ...new LiveVariables(),
  ...new ObservabilityVariables(),
};

/** A millisecond setting as the app reads it: the value given, else its default. */
const milliseconds = (name: string, value: string | undefined): number => {
  const ms = Number(value ?? DEFAULTS[name]);
  if (!Number.isFinite(ms)) throw new Error(`${name} has no value and no default`);
  return ms;
};

const SECONDS_PER_UNIT: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };

/** Seconds in a Compose or nginx duration: `30s`, `1m30s`, `1h`, or a bare number of seconds. */
function seconds(duration: string | number): number {
  if (typeof duration === 'number' || /^\d+$/.test(duration)) return Number(duration);
  const parts = [...duration.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)];
  if (parts.map(([part]) => part).join('') !== duration) {
    throw new Error(`Not a duration: ${duration}`);
  }
  return parts.reduce((sum, [, value, unit]) => sum + Number(value) * SECONDS_PER_UNIT[unit], 0);
}

// --- docker-compose.scale.yml ---

type ComposeService = {
  entrypoint?: string[];
  deploy?: { replicas?: number };
  environment?: Record<string, string | number> | string[];
  depends_on?: Record<string, { condition?: string }> | string[];
  ports?: unknown[];
  volumes?: string[];
  stop_grace_period?: string;
};
type Compose = { services: Record<string, ComposeService>; volumes?: Record<string, unknown> };

const compose = parse(read('docker-compose.scale.yml')) as Compose;

/** A service's environment as `{ NAME: value }`, from either form Compose accepts. */
function environmentOf(service: ComposeService): Record<string, string> {
  const environment = service.environment ?? {};
  const entries = Array.isArray(environment)
    ? environment.map((entry) => [entry.split('=')[0], entry.slice(entry.indexOf('=') + 1)])
    : Object.entries(environment);
  return Object.fromEntries(entries.map(([name, value]) => [name, String(value)]));
}

/** Bind mounts (`./host/path:/container/path[:ro]`): host path by container path. */
function bindMounts(service: ComposeService): Map<string, string> {
  return new Map(
    (service.volumes ?? [])
      .map((mount) => mount.split(':'))
      .filter(([source]) => source.startsWith('./'))
      .map(([source, target]) => [target, source.slice(2)]),
  );
}

/** The service that mounts `file` from the repository, and where it mounts it. */
function mounting(file: string): { name: string; target: string } {
  for (const [name, service] of Object.entries(compose.services)) {
    for (const [target, source] of bindMounts(service)) {
      if (source === file) return { name, target };
    }
  }
  throw new Error(`No service of docker-compose.scale.yml mounts ${file}`);
}

// --- nginx.conf, pgbouncer.ini ---

interface Directive {
  name: string;
  args: string[];
  block?: Directive[];
}

/** nginx's configuration as a tree of directives: enough of its grammar for our own file. */
function parseNginx(text: string): Directive[] {
  const tokens = text.replace(/#[^\n]*/g, '').match(/"[^"]*"|'[^']*'|[{};]|[^\s{};]+/g);
  let position = 0;
  const block = (): Directive[] => {
    const directives: Directive[] = [];
    while (position < (tokens?.length ?? 0)) {
      const words: string[] = [];
      while (tokens && !['{', '}', ';'].includes(tokens[position])) {
        words.push(tokens[position].replace(/^(["'])(.*)\1$/, '$2'));
        position += 1;
      }
      const end = tokens?.[position];
      position += 1;
      if (end === '}') return directives;
      const [name, ...args] = words;
      directives.push(end === '{' ? { name, args, block: block() } : { name, args });
    }
    return directives;
  };
  return block();
}

const find = (directives: Directive[] | undefined, name: string, ...args: string[]) =>
  directives?.find(
    (directive) =>
      directive.name === name && args.every((arg, index) => directive.args[index] === arg),
  );
const all = (directives: Directive[] | undefined, name: string) =>
  directives?.filter((directive) => directive.name === name) ?? [];

/** An INI file as `{ section: { key: value } }`; `;` and `#` start comments. */
function parseIni(text: string): Record<string, Record<string, string>> {
  const sections: Record<string, Record<string, string>> = {};
  let section = '';
  for (const line of text.split('\n').map((raw) => raw.trim())) {
    if (line === '' || line.startsWith(';') || line.startsWith('#')) continue;
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = header[1];
      continue;
    }
    const [key, ...value] = line.split('=');
    (sections[section] ??= {})[key.trim()] = value.join('=').trim();
  }
  return sections;
}

describe('docker-compose.scale.yml', () => {
  const validate = compileComposeValidator();
  const app = compose.services.app;
  const appEnv = environmentOf(app);

  it('follows the Compose Specification', () => {
    expect(validate(compose), JSON.stringify(validate.errors, null, 2)).toBe(true);
  });

  it('is checked strictly enough for a broken file to fail', () => {
    const badReplicas = structuredClone(compose);
    badReplicas.services.app.deploy = { replicas: 'three' as unknown as number };
    expect(validate(badReplicas)).toBe(false);

    expect(validate({ ...compose, servics: {} })).toBe(false);
  });

  it('passes the app only variables the app reads', () => {
    const names = Object.keys(appEnv);
    expect(names.length).toBeGreaterThan(0);
    for (const name of names) {
      expect(ENVIRONMENT_VARIABLE_NAMES, `${name} is not read by the app`).toContain(name);
    }
  });

  it('runs three replicas of the app, reachable through nginx only', () => {
    expect(app.deploy?.replicas).toBe(3);
    // A published port would let clients past nginx, and set their own X-Forwarded-For.
    expect(app.ports).toBeUndefined();
    expect(appEnv.TRUST_PROXY).toBe('1');
    expect(compose.services[mounting('deploy/nginx/nginx.conf').name].ports).toHaveLength(1);
  });

  it('mounts files that exist in the repository', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const source of bindMounts(service).values()) {
        expect(exists(source), `${name} mounts ${source}, which does not exist`).toBe(true);
      }
    }
  });

  it('keeps each database in a named volume', () => {
    for (const name of ['postgres-primary', 'postgres-replica']) {
      const source = compose.services[name].volumes
        ?.map((mount) => mount.split(':'))
        .find(([, target]) => target === '/var/lib/postgresql')?.[0];
      expect(source, `nothing mounted at /var/lib/postgresql in ${name}`).toBeDefined();
      expect(Object.keys(compose.volumes ?? {})).toContain(source);
    }
  });

  it('gives the app longer to stop than its drain', () => {
    // Docker's default is 10 s, after which it kills the container.
    expect(seconds(app.stop_grace_period ?? '10s')).toBeGreaterThan(
      milliseconds('SHUTDOWN_TIMEOUT_MS', appEnv.SHUTDOWN_TIMEOUT_MS) / 1000,
    );
  });

  describe('nginx (deploy/nginx/nginx.conf)', () => {
    const http = find(parseNginx(read('deploy/nginx/nginx.conf')), 'http')?.block;
    const server = find(http, 'server')?.block;
    const upstreamName = find(find(server, 'location', '/')?.block, 'proxy_pass')?.args[0];
    const upstream = find(http, 'upstream', upstreamName?.replace('http://', '') ?? '')?.block;

    it('is where the nginx container reads its configuration', () => {
      expect(mounting('deploy/nginx/nginx.conf').target).toBe('/etc/nginx/nginx.conf');
    });

    it('balances over every replica of the app, at the port the app listens on', () => {
      expect(upstream, `no upstream ${upstreamName}`).toBeDefined();
      const servers = all(upstream, 'server');
      expect(servers.map((entry) => entry.args[0])).toEqual([`app:${appEnv.PORT}`]);
      // Re-resolved, so a recreated replica's new address is used (needs `zone` and a resolver).
      expect(servers[0].args).toContain('resolve');
      expect(find(upstream, 'zone')).toBeDefined();
      expect(find(http, 'resolver')).toBeDefined();
    });

    it('closes idle connections to the app before the app does', () => {
      expect(seconds(find(upstream, 'keepalive_timeout')?.args[0] ?? '60s')).toBeLessThan(
        milliseconds('HTTP_KEEP_ALIVE_TIMEOUT_MS', appEnv.HTTP_KEEP_ALIVE_TIMEOUT_MS) / 1000,
      );
    });

    it('tells the app who the client is', () => {
      const headers = new Map(
        all(server, 'proxy_set_header').map((directive) => [directive.args[0], directive.args[1]]),
      );
      expect(headers.get('X-Forwarded-For')).toBe('$proxy_add_x_forwarded_for');
      expect(headers.get('X-Forwarded-Proto')).toBe('$scheme');
      expect(headers.get('X-Forwarded-Host')).toBe('$host');
    });

    it('passes the live stream through unbuffered, for longer than a heartbeat', () => {
      const stream = examplePath(pathOf('LiveEventsController_events'));
      const location = all(server, 'location').find(
        ({ args: [modifier, pattern] }) => modifier === '~' && new RegExp(pattern).test(stream),
      )?.block;
      expect(location, `no regex location matches ${stream}`).toBeDefined();
      expect(find(location, 'proxy_buffering')?.args).toEqual(['off']);
      const heartbeatMs = milliseconds('LIVE_HEARTBEAT_MS', appEnv.LIVE_HEARTBEAT_MS);
      expect(seconds(find(location, 'proxy_read_timeout')?.args[0] ?? '60s')).toBeGreaterThan(
        (2 * heartbeatMs) / 1000,
      );
    });
  });

  describe('PostgreSQL behind PgBouncer, with a streaming replica', () => {
    const pgbouncer = mounting('deploy/pgbouncer/pgbouncer.ini');
    const ini = parseIni(read('deploy/pgbouncer/pgbouncer.ini'));
    /** `host=... port=... dbname=...` of the one database PgBouncer serves. */
    const target = Object.fromEntries(
      Object.values(ini.databases)[0]
        .split(/\s+/)
        .map((pair) => pair.split('=')),
    ) as Record<string, string>;
    const replicaScript = mounting('deploy/postgres/replica-entrypoint.sh');
    const url = (value: string | undefined) => new URL(value ?? 'missing://');

    it('sends the app through PgBouncer, in transaction mode, to the primary', () => {
      expect(pgbouncer.target).toBe('/etc/pgbouncer/pgbouncer.ini');
      const pooled = url(appEnv.DATABASE_URL);
      expect(pooled.hostname).toBe(pgbouncer.name);
      expect(pooled.port).toBe(ini.pgbouncer.listen_port);
      expect(ini.pgbouncer.pool_mode).toBe('transaction');
      expect(compose.services[target.host]).toBeDefined();
      expect(target.dbname).toBe(pooled.pathname.slice(1));
    });

    it('lets the app connect through PgBouncer', () => {
      // The app sends DB_STATEMENT_TIMEOUT_MS as a startup parameter, which PgBouncer refuses
      // unless told to ignore it (the database's own statement_timeout applies then).
      expect(ini.pgbouncer.ignore_startup_parameters.split(/\s*,\s*/)).toContain(
        'statement_timeout',
      );
      expect(read('deploy/postgres/primary-init.sh')).toMatch(
        /ALTER DATABASE .* SET statement_timeout/,
      );
      // Named prepared statements break in transaction mode before PgBouncer 1.21.
      expect(appEnv.DB_PREPARED_STATEMENTS).toBe('false');
      expect(ini.pgbouncer.auth_file).toBe(
        [...bindMounts(compose.services[pgbouncer.name]).keys()].find((path) =>
          path.endsWith('userlist.txt'),
        ),
      );
    });

    it('runs session-bound work on the primary itself', () => {
      // Migrations hold an advisory lock and the live stream LISTENs: neither survives
      // transaction pooling.
      expect(url(appEnv.DATABASE_SESSION_URL).hostname).toBe(target.host);
    });

    it('reads from a replica that streams from the primary', () => {
      const replicas = appEnv.DATABASE_REPLICA_URLS.split(',').map((entry) => url(entry.trim()));
      expect(replicas.map((replica) => replica.hostname)).toEqual([replicaScript.name]);
      const replica = compose.services[replicaScript.name];
      expect(replica.entrypoint).toContain(replicaScript.target);
      const script = read('deploy/postgres/replica-entrypoint.sh');
      expect(script).toMatch(new RegExp(`pg_basebackup .*--host=${target.host}\\b`, 's'));
      expect(script).toContain('--write-recovery-conf');
      // The primary lets the replica in for replication, which `host all all` does not cover.
      expect(mounting('deploy/postgres/primary-init.sh').name).toBe(target.host);
      expect(read('deploy/postgres/primary-init.sh')).toMatch(/host replication replicator /);
    });

    it('starts the app only once the primary, PgBouncer and Redis accept connections', () => {
      expect(app.depends_on).toMatchObject({
        [target.host]: { condition: 'service_healthy' },
        [pgbouncer.name]: { condition: 'service_healthy' },
        [url(appEnv.REDIS_URL).hostname]: { condition: 'service_healthy' },
      });
    });
  });
});

// --- deploy/kubernetes ---

/** The kinds deploy/kubernetes may hold, each with its schema. */
const MODELS = [
  ConfigMap,
  Secret,
  Service,
  Deployment,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
];

type Manifest = { apiVersion?: string; kind?: string };

/** The manifest as its kubernetes-models object; validate() checks it against the schema. */
function toModel(manifest: Manifest) {
  const Model = MODELS.find(
    (candidate) => candidate.apiVersion === manifest.apiVersion && candidate.kind === manifest.kind,
  );
  if (Model === undefined) {
    throw new Error(`No schema for ${manifest.apiVersion} ${manifest.kind}: add it to MODELS`);
  }
  return new Model(manifest as never);
}

const manifestFiles = readdirSync(new URL('../deploy/kubernetes/', import.meta.url)).filter(
  (file) => /\.ya?ml$/.test(file),
);
const manifests = manifestFiles.flatMap((file) =>
  parseAllDocuments(read(`deploy/kubernetes/${file}`))
    .map((document) => document.toJS() as Manifest | null)
    .filter((manifest) => manifest !== null)
    .map((manifest) => ({ file, manifest })),
);

/** The one object of this kind in deploy/kubernetes. */
function only<T>(Model: abstract new (...args: never[]) => T): T {
  const found = manifests
    .map(({ manifest }) => toModel(manifest))
    .filter((model) => model instanceof Model);
  if (found.length !== 1) {
    throw new Error(`deploy/kubernetes holds ${found.length} ${Model.name} objects, not one`);
  }
  return found[0] as T;
}

describe('deploy/kubernetes', () => {
  const deployment = only(Deployment);
  const pod = deployment.spec?.template.spec;
  const container = pod?.containers[0];
  const configMap = only(ConfigMap);
  const secret = only(Secret);
  const setting = (name: string): string | undefined =>
    container?.env?.find((variable) => variable.name === name)?.value ?? configMap.data?.[name];

  it('holds a Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget, ConfigMap and Secret', () => {
    expect(
      manifests.map(({ manifest }) => `${manifest.apiVersion} ${manifest.kind}`).sort(),
    ).toEqual([
      'apps/v1 Deployment',
      'autoscaling/v2 HorizontalPodAutoscaler',
      'policy/v1 PodDisruptionBudget',
      'v1 ConfigMap',
      'v1 Secret',
      'v1 Service',
    ]);
  });

  it.each(manifests.map(({ file, manifest }) => [file, manifest] as const))(
    '%s follows the Kubernetes schema',
    (_file, manifest) => {
      expect(() => toModel(manifest).validate()).not.toThrow();
    },
  );

  it('is checked strictly enough for a broken manifest to fail', () => {
    const raw = manifests.find(({ manifest }) => manifest.kind === 'Deployment')!.manifest;

    const namedPort = structuredClone(raw) as Manifest & {
      spec: { template: { spec: { containers: { ports: object[] }[] } } };
    };
    namedPort.spec.template.spec.containers[0].ports = [{ containerPort: 'http' }];
    expect(() => toModel(namedPort).validate()).toThrow(/containerPort must be integer/);

    const noSelector = structuredClone(raw) as Manifest & { spec: { selector?: unknown } };
    delete noSelector.spec.selector;
    expect(() => toModel(noSelector).validate()).toThrow(/must have required property '?selector/);

    // An API version the cluster no longer serves has no model here.
    expect(() => toModel({ apiVersion: 'policy/v1beta1', kind: 'PodDisruptionBudget' })).toThrow(
      /No schema/,
    );
  });

  it('passes the app only variables the app reads', () => {
    const names = [
      ...Object.keys(configMap.data ?? {}),
      ...Object.keys({ ...secret.data, ...secret.stringData }),
      ...(container?.env ?? []).map((variable) => variable.name),
    ];
    expect(names).toContain('DATABASE_URL');
    for (const name of names) {
      expect(ENVIRONMENT_VARIABLE_NAMES, `${name} is not read by the app`).toContain(name);
    }
    // ...and gets them from these two objects.
    expect(container?.envFrom).toEqual([
      { configMapRef: { name: configMap.metadata?.name } },
      { secretRef: { name: secret.metadata?.name } },
    ]);
  });

  it('probes the health endpoints the API serves', () => {
    const live = pathOf('HealthController_live');
    const ready = pathOf('HealthController_ready');
    expect(container?.livenessProbe?.httpGet?.path).toBe(live);
    expect(container?.startupProbe?.httpGet?.path).toBe(live);
    expect(container?.readinessProbe?.httpGet?.path).toBe(ready);
    const ports = container?.ports?.map((port) => port.name);
    for (const probe of [
      container?.livenessProbe,
      container?.startupProbe,
      container?.readinessProbe,
    ]) {
      expect(ports).toContain(probe?.httpGet?.port);
    }
    expect(String(container?.ports?.[0].containerPort)).toBe(setting('PORT'));
  });

  it('gives a pod longer to stop than the preStop sleep and the drain together', () => {
    const [command, sleep] = container?.lifecycle?.preStop?.exec?.command ?? [];
    expect(command).toBe('sleep');
    const shutdownMs = milliseconds('SHUTDOWN_TIMEOUT_MS', setting('SHUTDOWN_TIMEOUT_MS'));
    expect(pod?.terminationGracePeriodSeconds).toBeGreaterThan(Number(sleep) + shutdownMs / 1000);
  });

  it('waits at start-up longer than the app retries an unreachable database', () => {
    const probe = container?.startupProbe;
    const connectMs = milliseconds('DB_CONNECT_TIMEOUT_MS', setting('DB_CONNECT_TIMEOUT_MS'));
    expect((probe?.periodSeconds ?? 10) * (probe?.failureThreshold ?? 3)).toBeGreaterThan(
      connectMs / 1000,
    );
  });

  it('selects its own pods everywhere, and leaves the replica count to the autoscaler', () => {
    const labels = deployment.spec?.template.metadata?.labels;
    expect(deployment.spec?.selector.matchLabels).toEqual(labels);
    expect(only(Service).spec?.selector).toEqual(labels);
    expect(only(PodDisruptionBudget).spec?.selector?.matchLabels).toEqual(labels);
    const hpa = only(HorizontalPodAutoscaler);
    expect(hpa.spec?.scaleTargetRef).toMatchObject({
      kind: 'Deployment',
      name: deployment.metadata?.name,
    });
    // A count here would reset the autoscaler's on every `kubectl apply`.
    expect(deployment.spec?.replicas).toBeUndefined();
    expect(hpa.spec?.minReplicas).toBeGreaterThanOrEqual(2);
  });
});

// --- docs ---

describe('the deployment documents', () => {
  const documents = ['docs/deploy-aws.md', 'docs/scaling.md', 'deploy/kubernetes/README.md'];
  /** What a document shows as code: `...` spans and fenced blocks. */
  const code = (path: string): string[] =>
    [...read(path).matchAll(/```[^\n]*\n([\s\S]*?)```|`([^`\n]+)`/g)].map(
      ([, block, span]) => block ?? span,
    );

  it.each(documents)('%s names only variables the app reads', (path) => {
    const named = code(path).flatMap((text) =>
      [...text.matchAll(/\b([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)/g)].map(([, name]) => name),
    );
    expect(named.length).toBeGreaterThan(0);
    const unknown = [...new Set(named)].filter(
      (name) => !ENVIRONMENT_VARIABLE_NAMES.includes(name),
    );
    expect(unknown).toEqual([]);
  });

  it.each(documents)('%s names only metrics the app exports', async (path) => {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    const exported = new Set([
      ...(await registry.getMetricsAsJSON()).map((metric) => metric.name),
      // The app's own, as their sources name them.
      ...readdirSync(new URL('../libs/observability/src/metrics/', import.meta.url)).flatMap(
        (file) =>
          [
            ...read(`libs/observability/src/metrics/${file}`).matchAll(/name(?::| =) '([a-z_]+)'/g),
          ].map(([, name]) => name),
      ),
    ]);
    const named = code(path).flatMap((text) =>
      [...text.matchAll(/\b((?:http|sms|db|nodejs|process)_[a-z0-9_]+)/g)].map(([, name]) =>
        name.replace(/_(bucket|sum|count)$/, ''),
      ),
    );
    const unknown = [...new Set(named)].filter((name) => !exported.has(name));
    expect(unknown).toEqual([]);
  });

  it.each(documents)('%s names only API paths the app serves', (path) => {
    const templates = Object.keys(openApiPaths).map(
      (template) => new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    );
    const named = code(path).flatMap((text) =>
      [...text.matchAll(/(?<![\w.])\/api\/[\w{}/.+%:-]*[\w}]/g)].map(([match]) => match),
    );
    const unknown = [...new Set(named)].filter(
      (candidate) => !templates.some((template) => template.test(candidate)),
    );
    expect(unknown).toEqual([]);
  });
});
