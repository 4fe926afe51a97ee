/**
 * Builds the Functions deployment package in dist/azure-package/ (azure.yaml `dist`): host.json, a package.json
 * whose `main` names one bundled module, and that module — the compiled functions/ and src/ with every
 * production dependency they import, joined by esbuild (https://esbuild.github.io/api/#bundle) so that only
 * the code the app uses ships, in a handful of files and with no node_modules. azd zips that folder as it is
 * (azure.yaml `remoteBuild: false`).
 *
 * Why a bundle: with node_modules (`npm ci --omit=dev`) the package was 264 MB in 42,495 files, and every cold
 * start of a Flex Consumption instance resolved and read hundreds of modules (docs/performance.md "Cold start").
 * Why not the repo folder: azd zips a Node project's folder including node_modules when a .funcignore exists
 * (https://learn.microsoft.com/azure/developer/azure-developer-cli/service-packaging-ignore-files; source
 * MicrosoftDocs/azure-dev-docs), and a remote build would run Oryx's `npm install` + `npm run build`
 * (microsoft/Oryx:doc/runtimes/nodejs.md), which needs the TypeScript sources and devDependencies.
 *
 * What the bundle keeps outside: `@azure/functions-core`, which the Functions Node worker provides to `require`
 * at run time (it is not on npm; `@azure/functions` src/utils/tryGetCoreApiLazy.ts), and Node's built-ins. Its
 * CommonJS parts call `require`, which an ES module lacks: the banner gives the bundle one (`createRequire`),
 * through which the worker's `@azure/functions-core` and the instrumentations' module hooks still see every
 * `require` (src/adapters/telemetry/azure-monitor.ts). Names are kept (`keepNames`) and the code is not
 * minified, so that stack traces and error class names read as in the sources; licence comments go to
 * `main.js.LEGAL.txt` beside the bundle.
 *
 * Run with `npm run package:azure` (the azd prepackage hook does), after `npm run build`. `buildPackage` is also
 * what test/infra/package.test.ts and `npm run bench -- --cold` build and load.
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, cpSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
// esbuild is a devDependency: this script runs where the full devDependencies are installed.
import { build } from 'esbuild';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Where the package is assembled (inside dist/, which git and the linters already ignore). */
export const PACKAGE_DIR = 'dist/azure-package';

/** The bundled module, relative to the package root: package.json `main`. */
export const PACKAGE_MAIN = 'dist/main.js';

/** Provided by the Functions Node worker at run time, never bundled. */
const PROVIDED = ['@azure/functions-core'];

const BANNER = [
  "import { createRequire as __brokerCreateRequire } from 'node:module';",
  'const require = __brokerCreateRequire(import.meta.url);',
].join('\n');

/**
 * Bundles the compiled function modules of `distRoot` (`functions/*.js`, in the order the Functions host loads
 * them) into `outDir`, with host.json and a package.json from `root`. Returns the package's files (relative,
 * `/`-separated, sorted) and its size in bytes.
 * @param {{ root?: string, distRoot?: string, outDir?: string }} [options]
 * @returns {Promise<{ files: string[], bytes: number }>}
 */
export async function buildPackage(options = {}) {
  const root = options.root ?? repoRoot;
  const distRoot = options.distRoot ?? join(root, 'dist');
  const out = options.outDir ?? join(root, PACKAGE_DIR);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const functionsDir = join(distRoot, 'functions');
  const modules = readdirSync(functionsDir)
    .filter((f) => f.endsWith('.js'))
    .sort();
  if (modules.length === 0)
    throw new Error(`no compiled functions in ${functionsDir}: run npm run build first`);
  await build({
    stdin: {
      contents: modules.map((f) => `import './${f}';`).join('\n'),
      resolveDir: functionsDir,
      sourcefile: 'functions-entry.js',
      loader: 'js',
    },
    // Module resolution from the repo's node_modules, whichever folder the compiled code is in.
    nodePaths: [join(root, 'node_modules')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node22',
    // The "node" condition first: the packages' Node builds, not their browser ones.
    conditions: ['node'],
    mainFields: ['module', 'main'],
    outfile: join(out, PACKAGE_MAIN),
    external: PROVIDED,
    banner: { js: BANNER },
    keepNames: true,
    legalComments: 'linked',
    logLevel: 'warning',
  });
  cpSync(join(root, 'host.json'), join(out, 'host.json'));
  // The vendor's profiles file (BROKER_PROFILES_FILE, a path relative to the repository root, as main.bicep passes
  // it to the app setting) at the same path inside the package: the Node worker runs in the function app's
  // directory (Azure/azure-functions-nodejs-worker PR #257: `process.chdir(msg.currentDirectory)`), so the setting
  // resolves there as it does here.
  const profilesFile = (options.profilesFile ?? process.env.BROKER_PROFILES_FILE ?? '').trim();
  if (profilesFile) {
    if (isAbsolute(profilesFile) || normalize(profilesFile).startsWith('..'))
      throw new Error(
        `BROKER_PROFILES_FILE must be a path inside the repository, relative to its root, got "${profilesFile}"`,
      );
    mkdirSync(dirname(join(out, profilesFile)), { recursive: true });
    cpSync(join(root, profilesFile), join(out, profilesFile));
  }
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const packageJson = {
    name: pkg.name,
    version: pkg.version,
    private: true,
    description: pkg.description,
    type: 'module',
    main: PACKAGE_MAIN,
    engines: pkg.engines,
  };
  writeFileSync(join(out, 'package.json'), `${JSON.stringify(packageJson, null, 2)}\n`);
  const files = [];
  let bytes = 0;
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else {
        files.push(relative(out, path).split(sep).join('/'));
        bytes += statSync(path).size;
      }
    }
  };
  walk(out);
  return { files: files.sort(), bytes };
}

async function main() {
  const out = join(repoRoot, PACKAGE_DIR);
  const { files, bytes } = await buildPackage({ outDir: out });
  process.stdout.write(
    `Deployment package: ${relative(repoRoot, out).split(sep).join('/')} (${files.length} files, ${(bytes / 1e6).toFixed(1)} MB)\n`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
