import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import autocannon, { type AutocannonRequest, type AutocannonResult } from 'autocannon';
import { startTopology, type Topology } from './topology.js';

/**
 * 1 instance against 3 behind nginx, on this machine's 2 cores
 * (`npm run bench:topology`): reads and sends through nginx, with the CPU each
 * part of the topology spent per request, so the figure says where the limit
 * is. Rounds in ABBA order (1, 3, 3, 1 instances), each on a fresh topology
 * with the same seeded dataset.
 */
const NUMBERS = 500;
const MESSAGES = 20_000;
const CONNECTIONS = 64;
const WARMUP_SECONDS = 2;
const SECONDS = Number(process.env.SCALE_BENCH_SECONDS ?? 10);
const SCENARIOS = ['read', 'send'] as const;
type Scenario = (typeof SCENARIOS)[number];

const phoneOf = (index: number) => `+1202555${String(1000 + index).slice(-4)}`;
const TICKS_PER_SECOND = 100;

interface Result {
  instances: number;
  scenario: Scenario;
  rps: number;
  p99: number;
  /** CPU ms per request, per part, and what the machine had left. */
  cpu: Record<string, number>;
  idlePct: number;
}

/** CPU seconds so far of every process, by part: app, nginx, postgres, pgbouncer. */
function cpuByPart(appPids: ReadonlySet<number>): Record<string, number> {
  const parts: Record<string, number> = { app: 0, nginx: 0, postgres: 0, pgbouncer: 0 };
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue;
    }
    const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const seconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    const part = appPids.has(Number(entry))
      ? 'app'
      : name.startsWith('nginx')
        ? 'nginx'
        : name.startsWith('postgres')
          ? 'postgres'
          : name === 'pgbouncer'
            ? 'pgbouncer'
            : undefined;
    if (part) parts[part] += seconds;
  }
  return parts;
}

function machineTicks(): { idle: number; total: number } {
  const [, ...values] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const ticks = values.map(Number);
  return { idle: ticks[3] + ticks[4], total: ticks.reduce((sum, tick) => sum + tick, 0) };
}

function requestsFor(scenario: Scenario, authorization: string): AutocannonRequest[] {
  const headers = { authorization };
  return [
    {
      setupRequest: (request: AutocannonRequest) => {
        const a = Math.floor(Math.random() * NUMBERS);
        if (scenario === 'read') {
          request.method = 'GET';
          request.path = `/api/get-conversation/${encodeURIComponent(phoneOf(a))}`;
          request.headers = { ...headers };
          request.body = undefined;
          return request;
        }
        request.method = 'POST';
        request.path = '/api/send-sms';
        request.headers = { ...headers, 'content-type': 'application/json' };
        request.body = JSON.stringify({
          senderPhone: phoneOf(a),
          receiverPhone: phoneOf((a + 1 + Math.floor(Math.random() * 20)) % NUMBERS),
          messageText: 'On my way, see you in 5',
          timestamp: Math.floor(Date.now() / 1000),
          uuid: randomUUID(),
        });
        return request;
      },
    },
  ];
}

async function seed(topology: Topology): Promise<void> {
  const start = Math.floor(Date.now() / 1000) - MESSAGES * 60;
  for (let batch = 0; batch < MESSAGES / 1000; batch += 1) {
    const events = Array.from({ length: 1000 }, (_, index) => {
      const n = batch * 1000 + index;
      const a = n % NUMBERS;
      return {
        type: 'sent',
        senderPhone: phoneOf(a),
        receiverPhone: phoneOf((a + 1 + (n % 20)) % NUMBERS),
        messageText: `Seeded message ${n}`,
        timestamp: start + n * 60,
        uuid: randomUUID(),
      };
    });
    const response = await fetch(`${topology.baseUrl}/api/messages/import`, {
      method: 'POST',
      headers: {
        Authorization: `Bearer ${topology.adminKey}`,
        'Content-Type': 'application/json',
      },
      body: JSON.stringify({ events }),
    });
    if (!response.ok) throw new Error(`seeding: ${response.status} ${await response.text()}`);
  }
}

function fire(
  url: string,
  scenario: Scenario,
  authorization: string,
  duration: number,
): Promise<AutocannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url,
        connections: CONNECTIONS,
        duration,
        timeout: 10,
        requests: requestsFor(scenario, authorization),
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

async function measure(instances: number): Promise<Result[]> {
  const topology = await startTopology({
    instances,
    env: { THROTTLE_LIMIT: '1000000000', LOG_LEVEL: 'warn' },
    log: () => undefined,
  });
  try {
    await seed(topology);
    const authorization = `Bearer ${topology.adminKey}`;
    const results: Result[] = [];
    for (const scenario of SCENARIOS) {
      await fire(topology.baseUrl, scenario, authorization, WARMUP_SECONDS);
      const appPids = new Set(topology.instances.map((instance) => instance.pid));
      const cpuBefore = cpuByPart(appPids);
      const machineBefore = machineTicks();
      const loadBefore = process.cpuUsage();
      const result = await fire(topology.baseUrl, scenario, authorization, SECONDS);
      const load = process.cpuUsage(loadBefore);
      const machineAfter = machineTicks();
      const cpuAfter = cpuByPart(appPids);
      const ok = result['2xx'];
      const perRequest = (seconds: number) => (1000 * seconds) / ok;
      results.push({
        instances,
        scenario,
        rps: ok / result.duration,
        p99: result.latency.p99,
        cpu: {
          ...Object.fromEntries(
            Object.keys(cpuAfter).map((part) => [
              part,
              perRequest(cpuAfter[part] - cpuBefore[part]),
            ]),
          ),
          'load generator': perRequest((load.user + load.system) / 1e6),
        },
        idlePct:
          (100 * (machineAfter.idle - machineBefore.idle)) /
          (machineAfter.total - machineBefore.total),
      });
      if (result.non2xx > 0 || result.errors > 0) {
        console.warn(
          `${instances} instance(s), ${scenario}: ${result.non2xx} non-2xx, ${result.errors} errors`,
        );
      }
    }
    return results;
  } finally {
    await topology.stop();
  }
}

const fmt = (value: number, digits = 0) =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  const rounds = [1, 3, 3, 1];
  const results: Result[] = [];
  for (const instances of rounds) {
    console.log(`Round: ${instances} instance(s) behind nginx`);
    results.push(...(await measure(instances)));
  }
  const parts = ['app', 'nginx', 'postgres', 'pgbouncer', 'load generator'];
  console.log(
    `\n${new Date().toISOString()}, Node ${process.version}, ${CONNECTIONS} connections, ${SECONDS} s per run, ${fmt(MESSAGES)} messages over ${NUMBERS} numbers, rounds ${rounds.join(', ')} (means of the 2 runs each)\n`,
  );
  console.log(
    `| scenario | instances | req/s | p99 ms | ${parts.map((part) => `${part} CPU ms/req`).join(' | ')} | machine idle |`,
  );
  console.log(`|---|--:|--:|--:|${parts.map(() => '--:').join('|')}|--:|`);
  for (const scenario of SCENARIOS) {
    for (const instances of [1, 3]) {
      const runs = results.filter((r) => r.scenario === scenario && r.instances === instances);
      const mean = (pick: (r: Result) => number) =>
        runs.reduce((sum, r) => sum + pick(r), 0) / runs.length;
      console.log(
        `| ${scenario} | ${instances} | ${fmt(mean((r) => r.rps))} | ${fmt(mean((r) => r.p99))} | ${parts
          .map((part) =>
            fmt(
              mean((r) => r.cpu[part] ?? 0),
              3,
            ),
          )
          .join(' | ')} | ${fmt(mean((r) => r.idlePct))}% |`,
      );
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
