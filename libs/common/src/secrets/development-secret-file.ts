import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface DevelopmentSecret<T> {
  value: T;
  /** True when this call generated and wrote it (the first start). */
  created: boolean;
}

/**
 * A secret that development keeps in a file under DATA_DIR, so that
 * `npm start` needs no setup and restarts keep it: read when the file
 * exists, else generated and written with mode 0600. Instances starting at
 * the same moment end up with the same secret: the write never overwrites.
 * `parse` turns the file's text into the secret, or throws naming the file.
 */
export async function keepDevelopmentSecret<T>(
  file: string,
  generate: () => string,
  parse: (text: string) => T,
): Promise<DevelopmentSecret<T>> {
  const stored = await readSecretFile(file);
  if (stored !== undefined) return { value: parse(stored), created: false };
  const text = generate();
  await mkdir(dirname(file), { recursive: true });
  try {
    // 'wx': another instance starting at the same moment must not overwrite ours.
    await writeFile(file, `${text}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return { value: parse((await readSecretFile(file)) ?? text), created: false };
  }
  await chmod(file, 0o600); // `mode` is filtered by the umask
  return { value: parse(text), created: true };
}

async function readSecretFile(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
