/**
 * The Functions deployment package: what `npm run package:azure` builds (infra/scripts/package.mjs) — host.json,
 * a package.json whose `main` is one bundled module, and that module — is small, holds no node_modules, and
 * starts and serves every route on its own. The app is compiled into a temporary folder (so that a concurrent
 * `npm run build` is not disturbed), bundled there into a folder outside the repo (no node_modules can be found
 * from it), and run in a separate Node process through the repo's stand-in for the Functions host
 * (local/functions-host.ts: the `@azure/functions-core` module, package.json `main`), with the test run's
 * simulators and Azurite. The routes it registers must be the routes of the OpenAPI document, its timers those
 * that functions/ declares, and each route must answer.
 * @module
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildPackage, PACKAGE_MAIN } from '../../infra/scripts/package.mjs';
import { installCoreModule, type Registry } from '../../local/functions-host.js';
import { openApiDocument } from '../../src/http/openapi.js';
import { baseData, startIngestion, TEST_TELEMETRY_SETTINGS, type Ingestion } from '../helpers/ingestion.js';
import { sandboxSettings } from '../integration/broker-host.js';
import { repoRoot } from './bicep.js';

const run = promisify(execFile);

/** The issue's bounds for the package (docs/performance.md "Deployment package"). */
const MAX_BYTES = 50 * 1024 * 1024;
const MAX_FILES = 3_000;

interface Probe {
  main: string;
  url: string;
  http: { name: string; route: string; methods: string[] }[];
  timers: { name: string; schedule: string }[];
}

let dir: string;
let built: { files: string[]; bytes: number };
let probe: Probe;
let child: ChildProcess | undefined;
let sourceRegistry: Registry;
let ingestion: Ingestion | undefined;
const pkgDir = () => join(dir, 'package');

/**
 * Runs in the package folder with plain Node: what the Functions host does at start (the core module, then
 * package.json "main"), then serves the registered functions on a free port and prints what it loaded.
 */
const PROBE = `
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [hostModule, root] = process.argv.slice(2);
const { installCoreModule, startFunctionsHost } = await import(pathToFileURL(hostModule).href);
const registry = installCoreModule();
const { main } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
await import(pathToFileURL(join(root, main)).href);
const host = await startFunctionsHost({ port: 0, registry, log: () => undefined });
// As the instance's shutdown: the appTerminate hooks (usage flush, telemetry still buffered), then exit.
process.once('SIGTERM', () => void host.close().then(() => process.exit(0)));
process.stdout.write(JSON.stringify({
  main,
  url: host.url,
  http: registry.http.map((f) => ({ name: f.name, route: f.route, methods: f.methods })),
  timers: registry.timers.map((t) => ({ name: t.name, schedule: t.schedule })),
}) + '\\n');
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
  built = await buildPackage({ root: repoRoot, distRoot: join(build, 'dist'), outDir: pkgDir() });

  await writeFile(join(dir, 'probe.mjs'), PROBE);
  ingestion = await startIngestion();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...sandboxSettings(),
    // Telemetry on, as infra/ deploys it, into the test's own ingestion endpoint.
    APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString,
    ...TEST_TELEMETRY_SETTINGS,
  };
  delete env.NODE_PATH;
  delete env.NODE_OPTIONS;
  const started = spawn(
    process.execPath,
    [join(dir, 'probe.mjs'), join(build, 'dist/local/functions-host.js'), pkgDir()],
    { cwd: pkgDir(), env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = started;
  let stderr = '';
  started.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  probe = await new Promise<Probe>((resolve, reject) => {
    let out = '';
    started.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Probe);
    });
    started.once('exit', (code) => reject(new Error(`the package exited (${code}): ${stderr.slice(-2000)}`)));
  });

  // What functions/ registers, loaded from the sources as test/http/openapi-routes.test.ts does.
  sourceRegistry = installCoreModule();
  const functionsDir = join(repoRoot, 'functions');
  for (const file of (await readdir(functionsDir)).filter((f) => f.endsWith('.ts')).sort())
    await import(pathToFileURL(join(functionsDir, file)).href);
}, 240_000);

afterAll(async () => {
  if (child && child.exitCode === null) child.kill();
  await ingestion?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('deployment package contents', () => {
  it('is host.json, package.json and the bundled module with its licence notices, and no node_modules', () => {
    expect(built.files).toEqual(
      ['dist/main.js', 'dist/main.js.LEGAL.txt', 'host.json', 'package.json'].sort(),
    );
    expect(existsSync(join(pkgDir(), 'node_modules'))).toBe(false);
  });

  it(`is at most ${MAX_BYTES / 1024 / 1024} MB in at most ${MAX_FILES} files`, () => {
    console.log(`deployment package: ${built.files.length} files, ${(built.bytes / 1e6).toFixed(2)} MB`);
    expect(built.files.length).toBeLessThanOrEqual(MAX_FILES);
    expect(built.bytes).toBeLessThanOrEqual(MAX_BYTES);
  });

  it('names the bundle as package.json "main" and keeps no TypeScript, simulator, local host or test code', async () => {
    const pkg = JSON.parse(await readFile(join(pkgDir(), 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.main).toBe(PACKAGE_MAIN);
    expect(pkg.type).toBe('module');
    expect(pkg.dependencies).toBeUndefined();
    const bundle = await readFile(join(pkgDir(), PACKAGE_MAIN), 'utf8');
    // esbuild names each joined file in a comment: none is from the simulators, the local host, tests or bench.
    const sources = [...bundle.matchAll(/^\/\/ (\S+)$/gm)].map((m) => m[1]!);
    expect(sources.some((s) => /(^|\/)functions\/token\.js$/.test(s))).toBe(true);
    expect(
      sources.filter((s) => /(^|\/)(simulators|local|test|bench)\//.test(s) && !s.includes('node_modules')),
    ).toEqual([]);
  });

  it("imports nothing but Node built-ins and the Functions worker's @azure/functions-core", async () => {
    const bundle = await readFile(join(pkgDir(), PACKAGE_MAIN), 'utf8');
    const specifiers = [
      ...bundle.matchAll(
        /(?:^import\s[^'"]*?from\s*|^import\s*|(?<![{\w.])import\(\s*|__require\(\s*)['"]([^'"]+)['"]/gm,
      ),
    ].map((m) => m[1]!); // (a JSDoc type `{import('./x.js')}` is not an import)
    expect(specifiers.length).toBeGreaterThan(0);
    expect([...new Set(specifiers.filter((s) => !isBuiltin(s) && s !== '@azure/functions-core'))]).toEqual(
      [],
    );
  });
});

describe('the package starts on its own and serves every route', () => {
  it('loads the module package.json "main" names', () => {
    expect(probe.main).toBe(PACKAGE_MAIN);
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

  it('answers health and the OpenAPI document from the sandbox', async () => {
    const health = await fetch(`${probe.url}/api/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe('ok');
    const doc = await fetch(`${probe.url}/api/openapi.json`);
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { openapi: string }).openapi).toMatch(/^3\./);
  });

  it('answers every route with its own answer, not a failure of the bundle', async () => {
    const staff = await staffToken();
    const problems: string[] = [];
    for (const f of probe.http) {
      for (const method of f.methods) {
        const path = toOpenApiPath(f.route).replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
        const res = await fetch(`${probe.url}${path}`, {
          method,
          headers: path.startsWith('/api/') ? { authorization: `Bearer ${staff}` } : {},
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: '' }),
          redirect: 'manual',
        });
        await res.arrayBuffer();
        // A route the host does not know is a 404 with no body from the host; a bundle that cannot run a
        // handler answers 500. Every other status is the handler's own (400 for the empty body, 404 for the
        // unknown tenant, 401 without an appliance credential, 302 for the sign-in redirect…).
        if (res.status >= 500) problems.push(`${method} ${path} → ${res.status}`);
      }
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it('sends its traces and metrics to Application Insights from the bundle, as unbundled', async () => {
    // Stopping the instance runs the appTerminate hook, which sends what is still buffered.
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child!.kill('SIGTERM');
    await exited;
    const all = ingestion!.envelopes();
    const dependencies = all
      .filter((e) => e.name === 'Microsoft.ApplicationInsights.RemoteDependency')
      .map(baseData)
      .map((d) => ({ type: String(d.type), name: String(d.name) }));
    // The Azure SDK bridge reached the bundled @azure/core-tracing, and the HTTP instrumentation its requests.
    expect(dependencies.some((d) => d.type === 'InProc | Microsoft.Data.Tables')).toBe(true);
    expect(dependencies.some((d) => d.type === 'Http')).toBe(true);
    const metricNames = all
      .filter((e) => e.name === 'Microsoft.ApplicationInsights.Metric')
      .flatMap((e) => (baseData(e).metrics as { name: string }[]).map((m) => m.name));
    // The empty token request of the test above was refused: the broker's meter exported through the bundle.
    expect(metricNames).toContain('broker.token.errors');
  }, 30_000);
});

async function staffToken(): Promise<string> {
  const res = await fetch(`${inject('controlUrl')}/_sim/staff-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: inject('sandbox').staff.admin }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** An Azure Functions route template as an OpenAPI path (as test/http/openapi-routes.test.ts translates it). */
function toOpenApiPath(route: string): string {
  const trimmed = route.replace(/^\/+|\/+$/g, '');
  return `/${trimmed.replace(/\{\*?([A-Za-z0-9_]+)(?::[^}?]+)?\??\}/g, '{$1}')}`;
}
