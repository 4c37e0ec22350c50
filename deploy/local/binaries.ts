import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { run } from './processes.js';

/** Where Debian's packages put the binaries the topology runs. */
export const BINARIES = {
  pgBin: '/usr/lib/postgresql/15/bin',
  pgbouncer: '/usr/sbin/pgbouncer',
  nginx: '/usr/sbin/nginx',
  redisServer: '/usr/bin/redis-server',
} as const;

type Binary = keyof typeof BINARIES;

/** The file that proves each binary is installed, and the Debian package that provides it. */
const PROVIDERS: Record<Binary, { file: string; apt: string }> = {
  pgBin: { file: `${BINARIES.pgBin}/pg_basebackup`, apt: 'postgresql-15' },
  pgbouncer: { file: BINARIES.pgbouncer, apt: 'pgbouncer' },
  nginx: { file: BINARIES.nginx, apt: 'nginx' },
  redisServer: { file: BINARIES.redisServer, apt: 'redis-server' },
};

/** Debian's hook that tells maintainer scripts whether they may start services (101: no). */
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

/**
 * Makes sure the binaries are there: as root, installs the missing ones with
 * apt-get (and says so); otherwise fails, naming the packages to install.
 */
export async function ensureBinaries(needed: Binary[], log: (line: string) => void): Promise<void> {
  const missing = needed.filter((binary) => !existsSync(PROVIDERS[binary].file));
  if (missing.length === 0) return;
  const packages = missing.map((binary) => PROVIDERS[binary].apt);
  const files = missing.map((binary) => PROVIDERS[binary].file).join(', ');
  if (process.getuid?.() !== 0) {
    throw new Error(
      `Missing ${files}. Install them with: sudo apt-get install -y ${packages.join(' ')}`,
    );
  }
  log(`Installing ${packages.join(' ')} with apt-get (missing: ${files})...`);
  await withoutServiceStarts(async () => {
    const install = ['install', '-y', '--no-install-recommends', ...packages];
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    try {
      await run('apt-get', install, { env });
    } catch {
      // A fresh machine may have no package lists yet.
      await run('apt-get', ['update'], { env });
      await run('apt-get', install, { env });
    }
  });
  const stillMissing = missing.filter((binary) => !existsSync(PROVIDERS[binary].file));
  if (stillMissing.length > 0) {
    throw new Error(
      `apt-get install ${packages.join(' ')} did not provide ${stillMissing.map((binary) => PROVIDERS[binary].file).join(', ')}`,
    );
  }
  log(`Installed ${packages.join(' ')}.`);
}

/**
 * Debian's nginx, pgbouncer and postgresql packages start their system
 * service on install (nginx on 0.0.0.0:80, a cluster on 5432). The topology
 * runs its own copies on loopback ports, so it asks the maintainer scripts
 * not to start anything (policy-rc.d exiting 101), unless that policy is
 * already set by someone else.
 */
async function withoutServiceStarts(install: () => Promise<void>): Promise<void> {
  if (existsSync(POLICY_RC_D)) return install();
  await writeFile(
    POLICY_RC_D,
    '#!/bin/sh\n# Written by deploy/local (npm run topology).\nexit 101\n',
    {
      mode: 0o755,
    },
  );
  try {
    await install();
  } finally {
    await rm(POLICY_RC_D, { force: true });
  }
}
