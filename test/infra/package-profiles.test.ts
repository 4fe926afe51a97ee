/**
 * The deployment package carries the vendor's profiles file (BROKER_PROFILES_FILE) at the same path relative to
 * its root as in the repository, the path main.bicep puts into the app setting; a path outside the repository is
 * refused. Built from a stand-in compiled tree (one trivial function module), so that it needs no build.
 * @module
 */
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildPackage } from '../../infra/scripts/package.mjs';
import { repoRoot } from './bicep.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'broker-package-profiles-'));
  await mkdir(join(dir, 'dist/functions'), { recursive: true });
  await writeFile(join(dir, 'dist/functions/probe.js'), 'export const probe = 1;\n');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('deployment package and BROKER_PROFILES_FILE', () => {
  it('copies the profiles file to the same relative path', async () => {
    const out = join(dir, 'with-profiles');
    const profilesFile = 'docs/examples/bundles.profiles.json';
    const { files } = await buildPackage({
      root: repoRoot,
      distRoot: join(dir, 'dist'),
      outDir: out,
      profilesFile,
    });
    expect(files).toContain(profilesFile);
    expect(await readFile(join(out, profilesFile), 'utf8')).toBe(
      await readFile(join(repoRoot, profilesFile), 'utf8'),
    );
  });

  it('carries no profiles file when none is set', async () => {
    const { files } = await buildPackage({
      root: repoRoot,
      distRoot: join(dir, 'dist'),
      outDir: join(dir, 'without'),
      profilesFile: '',
    });
    expect(files.filter((f) => f.endsWith('.json')).sort()).toEqual(['host.json', 'package.json']);
  });

  it('refuses a path outside the repository', async () => {
    for (const profilesFile of ['/etc/passwd', '../elsewhere/profiles.json'])
      await expect(
        buildPackage({ root: repoRoot, distRoot: join(dir, 'dist'), outDir: join(dir, 'bad'), profilesFile }),
      ).rejects.toThrow(/BROKER_PROFILES_FILE must be a path inside the repository/);
  });
});
