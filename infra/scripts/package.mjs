/**
 * Builds the Functions deployment package in dist/azure-package/ (azure.yaml `dist`): the files of this repo that
 * .funcignore does not exclude — host.json, package.json, package-lock.json and the compiled dist/functions and
 * dist/src — plus node_modules with the production dependencies only, installed from the lockfile
 * (`npm ci --omit=dev`). azd then zips that folder as it is (azure.yaml `remoteBuild: false`).
 *
 * Why not the repo folder itself: azd zips a Node project's folder including node_modules when a .funcignore
 * exists (https://learn.microsoft.com/azure/developer/azure-developer-cli/service-packaging-ignore-files; source
 * MicrosoftDocs/azure-dev-docs), and the repo's node_modules holds the devDependencies (TypeScript, Azurite, a Node
 * binary, …). A remote build would not help: Oryx runs `npm install` with devDependencies and then `npm run build`
 * (microsoft/Oryx:doc/runtimes/nodejs.md), which needs the TypeScript sources this package leaves out.
 *
 * Run with `npm run package:azure` (the azd prepackage hook does). `selectPackageFiles` is also what
 * test/infra/package.test.ts checks.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
// The `ignore` package implements .gitignore matching (the syntax azd reads .funcignore with). It is in
// node_modules through ESLint; this script runs where the full devDependencies are installed.
import ignore from 'ignore';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the package is assembled (inside dist/, which git and the linters already ignore). */
export const PACKAGE_DIR = 'dist/azure-package';

/**
 * The package's files, as paths relative to the package root with `/` separators, sorted. Walks `root` (without
 * node_modules, .git and dist) and `distRoot` (the compiled output, as `dist/…`), and keeps what `.funcignore`
 * (read from `root`) does not exclude. node_modules is never listed: the package gets its own production-only copy.
 * @param {{ root?: string, distRoot?: string }} [options]
 * @returns {string[]}
 */
export function selectPackageFiles(options = {}) {
  const root = options.root ?? repoRoot;
  const distRoot = options.distRoot ?? join(root, 'dist');
  const rules = ignore().add(readFileSync(join(root, '.funcignore'), 'utf8'));
  const files = [];
  const walk = (dir, prefix) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        if (['node_modules', '.git'].includes(rel) || (prefix === '' && entry.name === 'dist')) continue;
        // A directory the rules exclude is not descended into (as git does: its files cannot be re-included).
        if (rules.ignores(`${rel}/`)) continue;
        walk(join(dir, entry.name), rel);
      } else if (entry.isFile() && !rules.ignores(rel)) {
        files.push(rel);
      }
    }
  };
  walk(root, '');
  if (!rules.ignores('dist/')) walk(distRoot, 'dist');
  return files.sort();
}

/** Copies the selected files to PACKAGE_DIR and installs the production dependencies there. */
function main() {
  const out = join(repoRoot, PACKAGE_DIR);
  rmSync(out, { recursive: true, force: true });
  const files = selectPackageFiles();
  for (const file of files) {
    const target = join(out, ...file.split('/'));
    mkdirSync(dirname(target), { recursive: true });
    cpSync(join(repoRoot, ...file.split('/')), target);
  }
  // azd may read the ignore file from the folder it zips: the rules are anchored to the package root, so they
  // keep everything assembled here.
  cpSync(join(repoRoot, '.funcignore'), join(out, '.funcignore'));
  // Exactly the lockfile's production tree. Install scripts are not run: no production dependency needs one to
  // work (protobufjs's only prints a notice).
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  execFileSync(npm, ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund'], {
    cwd: out,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  process.stdout.write(
    `Deployment package: ${relative(repoRoot, out).split(sep).join('/')} (${files.length} files + production node_modules)\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
