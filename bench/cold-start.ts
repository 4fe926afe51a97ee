/**
 * `npm run bench -- --cold` (README.md "Benchmark"): how long a fresh instance of the *deployment package*
 * (infra/scripts/package.mjs: the bundled module that Azure runs) takes from its process start
 * - to the registered functions loaded, as an instance of Flex Consumption does before it can serve; and
 * - to the first token served (telemetry on; Entra, Key Vault and Table Storage are the sandbox's, answering at
 *   once), as the first PBX after a quiet spell waits.
 * Each run is a new Node process that installs the Functions core module the worker would provide
 * (local/functions-host.ts `installCoreModule`) and imports the module package.json `main` names; the time is
 * `performance.now()`, which counts from the process's start. Load kinds, interleaved run by run so that a busy
 * spell of the machine falls on all of them alike:
 * - floor: `@azure/functions` alone (what any app on the Functions Node model pays);
 * - app: the package, telemetry off;
 * - app + telemetry: with APPLICATIONINSIGHTS_CONNECTION_STRING set, as infra/ deploys it (the exporter's
 *   endpoint is a closed local port: nothing is sent, and sending is not on the start path).
 * The first-token child also runs the appStart hooks and serves through the repo's stand-in for the Functions
 * host (its HTTP server instead of the worker's gRPC channel), then sends itself one client-credentials request.
 * Prints the median and the spread (min–max) of each and judges the targets against the medians.
 * @module
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Median start of the package with telemetry on, to the registered functions loaded. */
export const START_TARGET_MS = 250;
/** Median start of the package with telemetry on, to the first token served. */
export const FIRST_TOKEN_TARGET_MS = 1_000;
const KINDS = ['floor', 'app', 'app + telemetry'] as const;
type Kind = (typeof KINDS)[number];

/** A closed local port: the exporter is configured, and nothing can be sent. */
export const UNREACHABLE_TELEMETRY =
  'InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=https://127.0.0.1:9/';

const here = fileURLToPath(import.meta.url);

async function loadPackage(packageRoot: string): Promise<void> {
  const { main } = JSON.parse(await readFile(join(packageRoot, 'package.json'), 'utf8')) as { main: string };
  await import(pathToFileURL(join(packageRoot, main)).href);
}

/** In a child: load what `kind` names and print the milliseconds since the process started. */
async function loadChild(kind: Kind, packageRoot: string): Promise<void> {
  const { installCoreModule, functionsLibrary } = await import('../local/functions-host/core-module.js');
  const registry = installCoreModule();
  if (kind === 'floor') functionsLibrary();
  else await loadPackage(packageRoot);
  const loadedMs = performance.now();
  process.stdout.write(`${JSON.stringify({ loadedMs, routes: registry.http.length })}\n`);
}

/** In a child: load the package, start it (appStart hooks), serve, and time one token request to itself. */
async function firstTokenChild(packageRoot: string): Promise<void> {
  const { installCoreModule, startFunctionsHost } = await import('../local/functions-host.js');
  const registry = installCoreModule();
  await loadPackage(packageRoot);
  const loadedMs = performance.now();
  const hostLog: string[] = [];
  const host = await startFunctionsHost({ port: 0, registry, log: (line) => hostLog.push(line) });
  const servingMs = performance.now();
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      {
        port: host.port,
        method: 'POST',
        path: '/oauth2/token',
        headers: {
          authorization: process.env.BENCH_AUTHORIZATION,
          'content-type': 'application/x-www-form-urlencoded',
        },
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => {
          // Only an error's body is shown (it holds no token): why the package could not serve.
          if (res.statusCode !== 200)
            process.stderr.write(`${hostLog.join('\n')}\ntoken endpoint ${res.statusCode}: ${body}\n`);
          resolve(res.statusCode ?? 0);
        });
      },
    );
    req.on('error', reject);
    req.end(process.env.BENCH_TOKEN_FORM);
  });
  const firstTokenMs = performance.now();
  process.stdout.write(`${JSON.stringify({ loadedMs, servingMs, firstTokenMs, status })}\n`);
  await host.close();
  process.exit(0);
}

function spawnChild(args: readonly string[], env: NodeJS.ProcessEnv): Record<string, number> {
  const res = spawnSync(process.execPath, [here, ...args], { env, encoding: 'utf8', timeout: 60_000 });
  if (res.status !== 0) throw new Error(`cold start (${args[0]}) failed: ${res.stderr.slice(-2000)}`);
  if (res.stderr.trim()) process.stderr.write(res.stderr.slice(-2000));
  const line = res.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as Record<string, number>;
}

function withoutTelemetry(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  delete out.APPLICATIONINSIGHTS_CONNECTION_STRING;
  return out;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/**
 * As spawnChild, without blocking this process: the sandbox's simulators run in it, and must answer the
 * child while it waits.
 */
function runChild(args: readonly string[], env: NodeJS.ProcessEnv): Promise<Record<string, number>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [here, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (stderr.trim()) process.stderr.write(stderr.slice(-2000));
      if (code !== 0) return reject(new Error(`cold start (${args[0]}) exited with ${code}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, number>);
    });
  });
}

const summary = (label: string, xs: readonly number[]) =>
  `cold start, ${label.padEnd(22)} median ${median(xs).toFixed(0)} ms   spread ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms   (${xs.length} processes)`;

export interface ColdStartResult {
  readonly runs: number;
  readonly floor_ms: number;
  readonly app_ms: number;
  readonly app_telemetry_ms: number;
  readonly routes: number;
}

/** Start to the functions loaded, for each kind, `runs` processes each (package at `packageRoot`). */
export function measureColdStart(packageRoot: string, runs = 7): ColdStartResult {
  const times = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
  let routes = 0;
  const run = (kind: Kind) =>
    spawnChild(
      ['--cold-child', kind, packageRoot],
      kind === 'app + telemetry'
        ? { ...process.env, APPLICATIONINSIGHTS_CONNECTION_STRING: UNREACHABLE_TELEMETRY }
        : withoutTelemetry(process.env),
    );
  // One unrecorded round first: the file system cache is warm for every kind alike.
  for (const kind of KINDS) run(kind);
  for (let i = 0; i < runs; i++)
    for (const kind of KINDS) {
      const r = run(kind);
      times.get(kind)!.push(r.loadedMs!);
      if (kind !== 'floor') routes = r.routes!;
    }
  for (const kind of KINDS) console.log(summary(kind, times.get(kind)!));
  const result = {
    runs,
    floor_ms: Math.round(median(times.get('floor')!)),
    app_ms: Math.round(median(times.get('app')!)),
    app_telemetry_ms: Math.round(median(times.get('app + telemetry')!)),
    routes,
  };
  console.log(`  ${routes} HTTP functions registered`);
  const met = result.app_telemetry_ms <= START_TARGET_MS;
  console.log(
    `  ${met ? 'MET   ' : 'MISSED'} start to functions loaded, telemetry on ≤ ${START_TARGET_MS} ms: ${result.app_telemetry_ms} ms (floor ${result.floor_ms} ms)`,
  );
  return result;
}

export interface FirstTokenResult {
  readonly runs: number;
  readonly first_token_ms: number;
  readonly first_token_spread_ms: readonly [number, number];
  /** Of which: from the functions loaded to the host serving (the appStart hooks and the listen). */
  readonly app_start_ms: number;
}

/**
 * Start to the first token served, `runs` fresh processes of the package with telemetry on. `env` holds the
 * broker's settings for the sandbox; `authorization` and `form` are one consented appliance's token request.
 */
export async function measureFirstToken(
  packageRoot: string,
  env: NodeJS.ProcessEnv,
  authorization: string,
  form: string,
  runs = 7,
): Promise<FirstTokenResult> {
  const childEnv = {
    ...env,
    APPLICATIONINSIGHTS_CONNECTION_STRING: UNREACHABLE_TELEMETRY,
    BENCH_AUTHORIZATION: authorization,
    BENCH_TOKEN_FORM: form,
  };
  const first: number[] = [];
  const appStart: number[] = [];
  for (let i = 0; i < runs; i++) {
    const r = await runChild(['--first-token-child', packageRoot], childEnv);
    if (r.status !== 200) throw new Error(`first token: the package answered ${r.status} (its log is above)`);
    first.push(r.firstTokenMs!);
    appStart.push(r.servingMs! - r.loadedMs!);
  }
  console.log(summary('first token, telemetry', first));
  console.log(`  of which appStart hooks and listen: median ${median(appStart).toFixed(0)} ms`);
  const result: FirstTokenResult = {
    runs,
    first_token_ms: Math.round(median(first)),
    first_token_spread_ms: [Math.round(Math.min(...first)), Math.round(Math.max(...first))],
    app_start_ms: Math.round(median(appStart)),
  };
  const met = result.first_token_ms <= FIRST_TOKEN_TARGET_MS;
  console.log(
    `  ${met ? 'MET   ' : 'MISSED'} start to first token served, telemetry on ≤ ${FIRST_TOKEN_TARGET_MS} ms: ${result.first_token_ms} ms`,
  );
  return result;
}

const cold = process.argv.indexOf('--cold-child');
const token = process.argv.indexOf('--first-token-child');
const failed = (err: unknown) => {
  console.error(err);
  process.exit(1);
};
if (cold >= 0) loadChild(process.argv[cold + 1] as Kind, process.argv[cold + 2]!).catch(failed);
else if (token >= 0) firstTokenChild(process.argv[token + 1]!).catch(failed);
