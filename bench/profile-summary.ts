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
  nodes: Array<{ id: number; callFrame: CallFrame }>;
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
  };
}

export function formatSummary(summary: ProfileSummary, title: string): string {
  return [
    `${title}: ${summary.busyMs} ms busy of ${summary.sampledMs} ms sampled (idle ${summary.idlePct}%),` +
      ` ${summary.socketWriteMs} ms of it in native socket writes (mostly preempted; left out below)`,
    '  self time by package (% of busy time outside socket writes):',
    ...summary.packages
      .slice(0, 15)
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
