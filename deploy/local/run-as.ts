import { execFileSync } from 'node:child_process';

/** An OS user to run a server as. */
export interface RunAs {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/**
 * Who runs PostgreSQL and PgBouncer: both refuse root, so when we are root
 * they run as the `postgres` user (Debian's postgresql packages create it);
 * otherwise as ourselves (undefined: no switch).
 */
export function serverUser(name = 'postgres'): RunAs | undefined {
  if (process.getuid?.() !== 0) return undefined;
  let entry: string;
  try {
    entry = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(
      `We run as root, and PostgreSQL refuses root, but there is no \`${name}\` user to run it as ` +
        '(apt-get install postgresql-15 creates it)',
    );
  }
  const [, , uid, gid, , home] = entry.split(':');
  return { name, uid: Number(uid), gid: Number(gid), home: home || '/' };
}
