// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and
// by package, optionally over the last N seconds only (the measured run,
// without start-up and warm-up).
//
//   npm run bench:profile-summary -- bench/results/<dir>/<file>.cpuprofile [--window 10] [--top 25]
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

export interface CpuProfile {
  nodes: Array<{ id: number; callFrame: CallFrame; children?: number[] }>;
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  sampledMs: number;
  busyMs: number;
  idlePct: number;
  socketWriteMs: number;
  /** Percentages are of busy time minus native socket writes. */
  topFunctions: Array<{ function: string; package: string; selfMs: number; pct: number }>;
  packages: Array<{ package: string; selfMs: number; pct: number }>;
  /**
   * Time with the package anywhere on the stack (itself or what it called).
   * Telling for leaf-like packages (a validator, a parser, a logger); a
   * framework that calls the handler includes the handler's work.
   */
  inclusivePackages: Array<{ package: string; ms: number; pct: number }>;
  /** Self time by bucket (categoryOf). */
  categories: Array<{ category: string; selfMs: number; pct: number }>;
}

const META = new Set(['(idle)', '(program)', '(garbage collector)', '(root)']);
/**
 * Native socket writes. The profiler samples wall-clock time: on a saturated
 * machine a write that wakes the peer (the load generator, a PostgreSQL
 * backend) is often where the thread gets preempted, so their "self time" is
 * mostly time off the CPU. Reported apart, and left out of the percentages.
 */
const SOCKET_WRITES = new Set([
  'writev',
  'writeBuffer',
  'writeUtf8String',
  'writeLatin1String',
  'writeAsciiString',
]);

/** Coarse buckets of self time, to compare the app with the baseline at a glance. */
const CATEGORIES: Array<[string, RegExp]> = [
  ['garbage collection', /^\(garbage collector\)$/],
  ['database client (pg, row parsing)', /^(pg|pg-.*|postgres-.*)$/],
  [
    'logging',
    /^(pino.*|nestjs-pino|sonic-boom|@pinojs\/.*|fast-redact|on-exit-leak-free|thread-stream)$/,
  ],
  ['validation (class-validator/-transformer)', /^(class-validator|class-transformer|validator)$/],
  ['phone numbers (libphonenumber-js)', /^libphonenumber-js$/],
  ['auth and rate limit', /^(app:libs\/auth|@nestjs\/throttler|@nest-lab\/.*|node:crypto.*)$/],
  [
    'Nest, Express/Fastify, middleware',
    /^(@nestjs\/.*|express|router|body-parser|raw-body|fastify|find-my-way|@fastify\/.*|rxjs|helmet|path-to-regexp|reflect-metadata|light-my-request|avvio|secure-json-parse|fast-json-stringify|finalhandler|send|serve-static|on-finished|type-is|content-type|mime-types|iconv-lite|qs|cookie|vary|depd|http-errors|statuses|encodeurl|escape-html|fastq|toad-cache|@lukeed\/.*|process-warning|abstract-logging|ret|safe-regex2|rfdc|fast-querystring|fast-decode-uri-component|json-schema-ref-resolver|media-typer|negotiator|accepts|proxy-addr|forwarded|ipaddr\.js|parseurl|merge-descriptors|setprototypeof|inherits|uid|iterare|tslib|cors|object-assign|@fastify\/.*)$/,
  ],
  ['app code', /^app:/],
  ['Node.js HTTP, streams, events, buffers', /^node:/],
  ['native (V8/libuv builtins)', /^\((native|program)\)$/],
];

export function categoryOf(pkg: string): string {
  return CATEGORIES.find(([, pattern]) => pattern.test(pkg))?.[0] ?? 'other';
}

/** Which package (or part of Node, or of the app) a script belongs to. */
export function packageOf(url: string, functionName: string): string {
  if (!url) return META.has(functionName) ? functionName : '(native)';
  if (url.startsWith('node:')) {
    return url
      .replace(/^node:(internal\/)?/, 'node:')
      .split('/')
      .slice(0, 2)
      .join('/');
  }
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) {
    const parts = url.slice(modules + '/node_modules/'.length).split('/');
    return parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
  }
  if (url.includes('/bench/baseline/')) return 'app:bench/baseline';
  const lib = /\/(libs\/[^/]+|apps\/[^/]+)\/src\//.exec(url);
  return lib ? `app:${lib[1]}` : url.replace(/^file:\/\//, '');
}

function shortUrl(url: string): string {
  const modules = url.lastIndexOf('/node_modules/');
  if (modules !== -1) return url.slice(modules + '/node_modules/'.length);
  const app = /\/((libs|apps)\/.*)$/.exec(url);
  return app ? app[1] : url.replace(/^file:\/\//, '');
}

/** Self time per function and per package; `windowSeconds`: the last so many seconds only. */
export function summarizeProfile(
  profile: CpuProfile,
  options: { windowSeconds?: number; top?: number } = {},
): ProfileSummary {
  const top = options.top ?? 25;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes)
    for (const child of node.children ?? []) parents.set(child, node.id);
  const inclusive = new Map<string, number>();
  const times: number[] = [];
  let t = profile.startTime;
  for (const delta of profile.timeDeltas) {
    t += delta;
    times.push(t);
  }
  const from = options.windowSeconds ? profile.endTime - options.windowSeconds * 1e6 : -Infinity;
  const byFunction = new Map<string, { function: string; package: string; us: number }>();
  const byPackage = new Map<string, number>();
  let total = 0;
  let socketWrites = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    if (times[i] < from) continue;
    // A sample stands for the time until the next one.
    const us = Math.max(0, (i + 1 < times.length ? times[i + 1] : profile.endTime) - times[i]);
    const frame = frames.get(profile.samples[i]);
    if (!frame) continue;
    const name = frame.functionName || '(anonymous)';
    total += us;
    if (!frame.url && SOCKET_WRITES.has(name)) {
      socketWrites += us;
      continue;
    }
    const pkg = packageOf(frame.url, name);
    const key = frame.url ? `${name} ${shortUrl(frame.url)}:${frame.lineNumber + 1}` : name;
    const entry = byFunction.get(key) ?? { function: key, package: pkg, us: 0 };
    entry.us += us;
    byFunction.set(key, entry);
    byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
    const onStack = new Set<string>();
    for (let id: number | undefined = profile.samples[i]; id !== undefined; id = parents.get(id)) {
      const caller = frames.get(id);
      if (caller?.url) onStack.add(packageOf(caller.url, caller.functionName));
    }
    for (const name of onStack) inclusive.set(name, (inclusive.get(name) ?? 0) + us);
  }
  const idle = byPackage.get('(idle)') ?? 0;
  const busy = total - idle;
  const onCpu = busy - socketWrites;
  const pct = (us: number): number => Math.round((1000 * us) / onCpu) / 10;
  const ms = (us: number): number => Math.round(us / 1000);
  return {
    sampledMs: ms(total),
    busyMs: ms(busy),
    idlePct: total ? Math.round((1000 * idle) / total) / 10 : 0,
    socketWriteMs: ms(socketWrites),
    topFunctions: [...byFunction.values()]
      .filter((entry) => entry.function !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map((entry) => ({
        function: entry.function,
        package: entry.package,
        selfMs: ms(entry.us),
        pct: pct(entry.us),
      })),
    packages: [...byPackage.entries()]
      .filter(([pkg]) => pkg !== '(idle)')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([pkg, us]) => ({ package: pkg, selfMs: ms(us), pct: pct(us) })),
    categories: [
      ...[...byPackage.entries()]
        .filter(([pkg]) => pkg !== '(idle)')
        .reduce((sums, [pkg, us]) => {
          const category = categoryOf(pkg);
          return sums.set(category, (sums.get(category) ?? 0) + us);
        }, new Map<string, number>())
        .entries(),
    ]
      .sort((a, b) => b[1] - a[1])
      .map(([category, us]) => ({ category, selfMs: ms(us), pct: pct(us) })),
    inclusivePackages: [...inclusive.entries()]
      .filter(([pkg]) => !pkg.startsWith('node:'))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([pkg, us]) => ({ package: pkg, ms: ms(us), pct: pct(us) })),
  };
}

export function formatSummary(summary: ProfileSummary, title: string): string {
  return [
    `${title}: ${summary.busyMs} ms busy of ${summary.sampledMs} ms sampled (idle ${summary.idlePct}%),` +
      ` ${summary.socketWriteMs} ms of it in native socket writes (mostly preempted; left out below)`,
    '  self time by kind of work (% of busy time outside socket writes):',
    ...summary.categories.map(
      (entry) => `    ${String(entry.pct).padStart(5)}%  ${entry.category}`,
    ),
    '  self time by package (same base):',
    ...summary.packages
      .slice(0, 15)
      .map((entry) => `    ${String(entry.pct).padStart(5)}%  ${entry.package}`),
    '  time with the package on the stack (same base; frameworks include the handlers they call):',
    ...summary.inclusivePackages
      .slice(0, 25)
      .map((entry) => `    ${String(entry.pct).padStart(5)}%  ${entry.package}`),
    '  top functions by self time (same base):',
    ...summary.topFunctions.map(
      (entry) => `    ${String(entry.pct).padStart(5)}%  ${entry.function}`,
    ),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { window: { type: 'string' }, top: { type: 'string', default: '25' } },
  });
  if (positionals.length === 0) {
    console.error('usage: profile-summary <file.cpuprofile>... [--window seconds] [--top n]');
    process.exit(2);
  }
  for (const file of positionals) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const summary = summarizeProfile(profile, {
      windowSeconds: values.window ? Number(values.window) : undefined,
      top: Number(values.top),
    });
    console.log(formatSummary(summary, file));
  }
}
