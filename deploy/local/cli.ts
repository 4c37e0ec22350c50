import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { staleBuild, repoRoot } from './paths.js';
import { startTopology, type Topology } from './topology.js';

/** Signals this close together count as one. */
const SAME_SIGNAL_MS = 1_000;

/**
 * `npm run topology [-- --adapter express|fastify --instances N --keep]`:
 * the topology of topology.ts until Ctrl-C. Builds the app first when the
 * build is missing or older than its sources.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      adapter: { type: 'string', default: 'fastify' },
      instances: { type: 'string', default: '3' },
      keep: { type: 'boolean', default: false },
    },
  });
  const adapter = values.adapter;
  if (adapter !== 'fastify' && adapter !== 'express') {
    throw new Error(`--adapter must be fastify or express, not ${adapter}`);
  }
  const instances = Number(values.instances);
  if (!Number.isInteger(instances) || instances < 1) {
    throw new Error(`--instances must be a positive whole number, not ${values.instances}`);
  }

  const stale = await staleBuild();
  if (stale) {
    console.log(`[topology] ${stale}: running \`npm run build\` first`);
    const build = spawnSync('npm', ['run', 'build'], { cwd: repoRoot(), stdio: 'inherit' });
    if (build.status !== 0) throw new Error('npm run build failed');
  }

  // Ctrl-C during start-up aborts it (and stops what was started); afterwards it stops the topology.
  const abort = new AbortController();
  let topology: Topology | undefined;
  let firstSignalAt: number | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (firstSignalAt !== undefined) {
      // A terminal's Ctrl-C reaches us twice: from the tty, and forwarded by npm.
      if (Date.now() - firstSignalAt < SAME_SIGNAL_MS) return;
      // Impatient: the exit hook in processes.ts SIGKILLs every process group.
      console.error(
        `[topology] ${signal} again: killing everything now; ${topology?.tempDir ?? 'the temp folder'} stays behind`,
      );
      process.exit(130);
    }
    firstSignalAt = Date.now();
    console.log(`[topology] ${signal}: stopping (again to kill at once)...`);
    abort.abort();
    if (topology) void stopAndExit(topology);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    topology = await startTopology({
      adapter,
      instances,
      keepTempDir: values.keep,
      signal: abort.signal,
    });
  } catch (error) {
    if (abort.signal.aborted) {
      console.log('[topology] Stopped during start-up.');
      process.exit(0);
    }
    throw error;
  }
  printSummary(topology, adapter);
}

async function stopAndExit(topology: Topology): Promise<void> {
  try {
    await topology.stop();
    console.log('[topology] Stopped; temp folder removed.');
    process.exit(0);
  } catch (error) {
    console.error(`[topology] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
}

function printSummary(topology: Topology, adapter: string): void {
  const servers = new Map(topology.processes().map((server) => [server.name, server.pid]));
  const lines = [
    '',
    `nginx        ${topology.baseUrl}  (pid ${servers.get('nginx')})   try: curl -i ${topology.baseUrl}/api/health/ready`,
    ...topology.instances.map(
      (instance) =>
        `instance ${instance.index}   ${instance.url}  (pid ${instance.pid}, ${adapter})`,
    ),
    `primary      127.0.0.1:${topology.ports.primary}  (pid ${servers.get('topology_primary')})   ${topology.primaryUrl}`,
    `replica      127.0.0.1:${topology.ports.replica}  (pid ${servers.get('topology_replica')})   ${topology.replicaUrl}`,
    `pgbouncer    127.0.0.1:${topology.ports.pgbouncer}  (pid ${servers.get('pgbouncer')})   ${topology.pgbouncerUrl}`,
    `redis        ${topology.redisUrl}  key prefix ${topology.redisPrefix}`,
    `admin key    ${topology.adminKey}`,
    `             curl -H 'Authorization: Bearer ${topology.adminKey}' ${topology.baseUrl}/api/...`,
    `temp folder  ${topology.tempDir}  (every process's log is in there)`,
    '',
    'Ctrl-C (SIGINT or SIGTERM to this process) stops everything and removes the temp folder.',
  ];
  console.log(lines.join('\n'));
}

main().catch((error: unknown) => {
  console.error(
    `[topology] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  process.exit(1);
});
