/**
 * A copy of the postprovision hook with a build of its own (the same compiler and project as `npm run build`),
 * for the tests that run it, so that they neither depend on nor race with the repo's dist/.
 * @module
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './bicep.js';

const run = promisify(execFile);

/** Builds the tree under `tree`: infra/scripts' hook and helper, `extra` repo files, and dist/. */
export async function hookTree(tree: string, extra: readonly string[] = []): Promise<void> {
  await mkdir(join(tree, 'infra/scripts'), { recursive: true });
  for (const f of ['postprovision.sh', 'home-app-body.mjs'])
    await cp(join(repoRoot, 'infra/scripts', f), join(tree, 'infra/scripts', f));
  for (const f of extra) {
    await mkdir(dirname(join(tree, f)), { recursive: true });
    await cp(join(repoRoot, f), join(tree, f));
  }
  await writeFile(join(tree, 'package.json'), '{ "type": "module" }\n');
  await run(process.execPath, [
    join(repoRoot, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(repoRoot, 'tsconfig.build.json'),
    '--outDir',
    join(tree, 'dist'),
  ]);
}
