import { access, chmod, lstat, mkdir } from 'node:fs/promises';
import { inspect } from 'node:util';

// Names and small helpers shared by the parts of the embedded PostgreSQL launcher.

export interface EmbeddedPostgresLogger {
  log(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export const SUPERUSER = 'postgres';
export const HOST = '127.0.0.1';
/** Prefix of the folders kept under os.tmpdir(): relocated clusters and binaries. */
export const TMP_PREFIX = 'sms-service-pg';
/** Fast shutdown normally takes well under a second; past this, fall back to immediate. */
export const STOP_TIMEOUT_MS = 15_000;

export function delay(ms: number): Promise<void> {
  return new Promise((resolvePromise) => setTimeout(resolvePromise, ms));
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

export function errorCode(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error ? String(error.code) : undefined;
}

export function describeCause(cause: unknown): string {
  if (cause instanceof Error) return cause.message;
  // The library rejects with `undefined` whenever postgres exits before being ready.
  if (cause === undefined) return 'postgres exited before accepting connections';
  return typeof cause === 'string' ? cause : inspect(cause);
}

/**
 * Folders we keep under the world-writable os.tmpdir() have predictable names: only trust one
 * that is a real directory owned by us, so another local user cannot plant it.
 */
export async function ensureOwnDirectory(path: string, mode: number): Promise<void> {
  await mkdir(path, { recursive: true, mode });
  const stats = await lstat(path);
  if (!stats.isDirectory() || stats.uid !== process.getuid?.()) {
    throw new Error(`Refusing to use ${path}: it is not a directory owned by the current user`);
  }
  await chmod(path, mode);
}
