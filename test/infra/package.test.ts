/**
 * The Functions deployment package starts. Builds the app (into a temporary folder, so that a concurrent
 * `npm run build` is not disturbed), selects the package's files with .funcignore exactly as
 * infra/scripts/package.mjs does, copies them to an empty folder with a node_modules holding only the production
 * dependencies of package-lock.json, and loads the package's functions there, in a separate Node process, through
 * the repo's stand-in for the Functions host (local/functions-host.ts: the `@azure/functions-core` module, and
 * package.json `main`). The HTTP routes it registers must be the routes of the OpenAPI document, and its timers
 * those that functions/ declares.
 * @module
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectPackageFiles } from '../../infra/scripts/package.mjs';
import { installCoreModule, type Registry } from '../../local/functions-host.js';
import { openApiDocument } from '../../src/http/openapi.js';
import { repoRoot } from './bicep.js';

const run = promisify(execFile);

interface PackageJson {
  main: string;
  dependencies: Record<string, string>;
}
interface LockFile {
  packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
}
interface Probe {
  main: string;
  files: string[];
  http: { name: string; route: string; methods: string[] }[];
  timers: { name: string; schedule: string }[];
}

let dir: string;
let files: string[];
let probe: Probe;
let sourceRegistry: Registry;
const pkgDir = () => join(dir, 'package');

/** Runs in the package folder with plain Node: what the Functions host does at start, minus the socket. */
const PROBE = `
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [hostModule, root] = process.argv.slice(2);
const { installCoreModule } = await import(pathToFileURL(hostModule).href);
const registry = installCoreModule();
const { main } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
// package.json "main" as the Functions host reads it: a folder and a file glob (local/host.ts does the same).
const folder = join(root, dirname(main));
const pattern = new RegExp('^' + main.split('/').pop().replace(/\\./g, '\\\\.').replace(/\\*/g, '.*') + '$');
const files = (await readdir(folder)).filter((f) => pattern.test(f)).sort();
for (const f of files) await import(pathToFileURL(join(folder, f)).href);
process.stdout.write(JSON.stringify({
  main,
  files,
  http: registry.http.map((f) => ({ name: f.name, route: f.route, methods: f.methods })),
  timers: registry.timers.map((t) => ({ name: t.name, schedule: t.schedule })),
}));
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'broker-package-'));
  const build = join(dir, 'build');
  // The same compiler and project as `npm run build`, into a folder of its own.
  await run(process.execPath, [
    join(repoRoot, 'node_modules/typescript/bin/tsc'),
    '-p',
    join(repoRoot, 'tsconfig.build.json'),
    '--outDir',
    join(build, 'dist'),
  ]);
  // The build's local host runs with the repo's full node_modules (it is the stand-in host, not the package).
  await writeFile(join(build, 'package.json'), '{ "type": "module" }\n');
  await symlink(join(repoRoot, 'node_modules'), join(build, 'node_modules'), 'dir');

  files = selectPackageFiles({ root: repoRoot, distRoot: join(build, 'dist') });
  for (const file of files) {
    const from = file.startsWith('dist/') ? join(build, file) : join(repoRoot, file);
    await mkdir(dirname(join(pkgDir(), file)), { recursive: true });
    await cp(from, join(pkgDir(), file));
  }
  // node_modules with the lockfile's production packages only (package.mjs installs the same set with
  // `npm ci --omit=dev`). Nested node_modules come along inside their parent package.
  const lock = JSON.parse(await readFile(join(repoRoot, 'package-lock.json'), 'utf8')) as LockFile;
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!/^node_modules\/(?:@[^/]+\/)?[^/]+$/.test(path) || entry.dev || entry.devOptional) continue;
    const target = join(pkgDir(), path);
    await mkdir(dirname(target), { recursive: true });
    await symlink(join(repoRoot, path), target, 'dir');
  }

  await writeFile(join(dir, 'probe.mjs'), PROBE);
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  const { stdout } = await run(
    process.execPath,
    [join(dir, 'probe.mjs'), join(build, 'dist/local/functions-host.js'), pkgDir()],
    { cwd: pkgDir(), env },
  );
  probe = JSON.parse(stdout) as Probe;

  // What functions/ registers, loaded from the sources as test/http/openapi-routes.test.ts does.
  sourceRegistry = installCoreModule();
  const functionsDir = join(repoRoot, 'functions');
  for (const file of (await readdir(functionsDir)).filter((f) => f.endsWith('.ts')).sort())
    await import(pathToFileURL(join(functionsDir, file)).href);
}, 240_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('deployment package contents (.funcignore)', () => {
  it('holds host.json, package.json, its lockfile and the compiled functions/ and src/, nothing else', () => {
    expect(files).toEqual(expect.arrayContaining(['host.json', 'package.json', 'package-lock.json']));
    const other = files.filter(
      (f) =>
        !['host.json', 'package.json', 'package-lock.json'].includes(f) &&
        !f.startsWith('dist/functions/') &&
        !f.startsWith('dist/src/'),
    );
    expect(other).toEqual([]);
  });

  it('ships no TypeScript source, simulator, local host, benchmark, test or local settings', () => {
    expect(files.filter((f) => f.endsWith('.ts'))).toEqual([]);
    const forbidden =
      /^(src|functions|test|simulators|local|bench|infra|\.data|test-artifacts)\/|^dist\/(simulators|local|bench|test)\/|local\.settings/;
    expect(files.filter((f) => forbidden.test(f))).toEqual([]);
  });

  it('has a compiled module for every functions/*.ts and the built-in profiles', async () => {
    const sources = (await readdir(join(repoRoot, 'functions'))).filter((f) => f.endsWith('.ts'));
    expect(sources.length).toBeGreaterThan(0);
    for (const f of sources) expect(files).toContain(`dist/functions/${f.replace(/\.ts$/, '.js')}`);
    expect(files).toContain('dist/src/profiles/default-profiles.json');
  });

  it('imports only production dependencies, Node built-ins and its own files', async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as PackageJson;
    const fileSet = new Set(files);
    const problems: string[] = [];
    for (const file of files.filter((f) => f.endsWith('.js'))) {
      const text = await readFile(join(pkgDir(), file), 'utf8');
      const specifiers = [
        ...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g),
      ].map((m) => m[1]!);
      for (const s of specifiers) {
        if (s.startsWith('.')) {
          const target = posix.normalize(posix.join(posix.dirname(file), s));
          if (!fileSet.has(target)) problems.push(`${file}: ${s} is not in the package`);
        } else if (!isBuiltin(s) && s !== '@azure/functions-core') {
          // '@azure/functions-core' is provided by the Functions host's Node worker, not installed.
          const name = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
          if (!(name in pkg.dependencies)) problems.push(`${file}: ${s} is not a production dependency`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('the package starts with production dependencies only', () => {
  it('loads the modules package.json "main" names', () => {
    expect(probe.main).toBe('dist/functions/*.js');
    expect(probe.files.length).toBeGreaterThan(0);
    expect(existsSync(join(pkgDir(), 'node_modules', '@azure', 'functions'))).toBe(true);
    expect(existsSync(join(pkgDir(), 'node_modules', 'typescript'))).toBe(false);
  });

  it('registers exactly the HTTP routes of the OpenAPI document', () => {
    const doc = openApiDocument({ publicUrl: 'http://localhost:7071' });
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      (['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const)
        .filter((m) => (item as Record<string, unknown>)[m] !== undefined)
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    const registered = probe.http.flatMap((f) => f.methods.map((m) => `${m} ${toOpenApiPath(f.route)}`));
    expect(registered.length).toBeGreaterThanOrEqual(20);
    expect([...new Set(registered)].sort()).toEqual([...new Set(documented)].sort());
  });

  it('registers the same HTTP functions and timers as the sources in functions/', () => {
    const byName = <T extends { name: string }>(list: T[]) =>
      [...list].sort((a, b) => a.name.localeCompare(b.name));
    expect(byName(probe.http)).toEqual(
      byName(sourceRegistry.http.map((f) => ({ name: f.name, route: f.route, methods: [...f.methods] }))),
    );
    expect(probe.timers.length).toBeGreaterThan(0);
    expect(byName(probe.timers)).toEqual(
      byName(sourceRegistry.timers.map((t) => ({ name: t.name, schedule: t.schedule }))),
    );
  });
});

/** An Azure Functions route template as an OpenAPI path (as test/http/openapi-routes.test.ts translates it). */
function toOpenApiPath(route: string): string {
  const trimmed = route.replace(/^\/+|\/+$/g, '');
  return `/${trimmed.replace(/\{\*?([A-Za-z0-9_]+)(?::[^}?]+)?\??\}/g, '{$1}')}`;
}
