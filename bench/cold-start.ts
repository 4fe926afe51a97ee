/**
 * `npm run bench -- --cold` (README.md "Benchmark"): how long a fresh process takes from its start to the
 * registered functions loaded, as an instance of Flex Consumption does before it can serve the first request.
 * Each run is a new Node process that installs the Functions core module the worker would provide
 * (local/functions-host.ts `installCoreModule`) and imports every compiled module of functions/, as the
 * worker loads the package's `main` (package.json: dist/functions/*.js); the time is `performance.now()` at
 * the end, which counts from the process's start. Three kinds, interleaved run by run so that a busy spell
 * of the machine falls on all of them alike:
 * - floor: `@azure/functions` alone (what any app on the Functions Node model pays);
 * - app: the broker's functions, telemetry off;
 * - app + telemetry: with APPLICATIONINSIGHTS_CONNECTION_STRING set, as infra/ deploys it (the exporter's
 *   endpoint is a closed local port: nothing is sent, and sending is not on the start path).
 * Prints the median and the spread (min–max) of each and judges the start target against the median.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Median start of the app with telemetry on, to the registered functions loaded (issue target). */
export const START_TARGET_MS = 250;
const KINDS = ['floor', 'app', 'app + telemetry'] as const;
type Kind = (typeof KINDS)[number];

const here = fileURLToPath(import.meta.url);
const functionsDir = resolve(here, '../../functions');

/** In the child: load what `kind` names and print the milliseconds since the process started. */
async function child(kind: Kind): Promise<void> {
  const { installCoreModule, functionsLibrary } = await import('../local/functions-host/core-module.js');
  const registry = installCoreModule();
  if (kind === 'floor') functionsLibrary();
  else {
    const files = (await readdir(functionsDir)).filter((f) => f.endsWith('.js')).sort();
    for (const file of files) await import(pathToFileURL(join(functionsDir, file)).href);
  }
  const loadedMs = performance.now();
  process.stdout.write(`${JSON.stringify({ loadedMs, routes: registry.http.length })}\n`);
}

function runOnce(kind: Kind): { loadedMs: number; routes: number } {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.APPLICATIONINSIGHTS_CONNECTION_STRING;
  if (kind === 'app + telemetry')
    env.APPLICATIONINSIGHTS_CONNECTION_STRING =
      'InstrumentationKey=00000000-0000-4000-8000-000000000000;IngestionEndpoint=https://127.0.0.1:9/';
  const res = spawnSync(process.execPath, [here, '--cold-child', kind], { env, encoding: 'utf8' });
  if (res.status !== 0) throw new Error(`cold start (${kind}) failed: ${res.stderr.slice(-2000)}`);
  const line = res.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line) as { loadedMs: number; routes: number };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export interface ColdStartResult {
  readonly runs: number;
  readonly floor_ms: number;
  readonly app_ms: number;
  readonly app_telemetry_ms: number;
  readonly routes: number;
}

export function measureColdStart(runs = 7): ColdStartResult {
  const times = new Map<Kind, number[]>(KINDS.map((k) => [k, []]));
  let routes = 0;
  // One unrecorded round first: the file system cache is warm for every kind alike.
  for (const kind of KINDS) runOnce(kind);
  for (let i = 0; i < runs; i++)
    for (const kind of KINDS) {
      const r = runOnce(kind);
      times.get(kind)!.push(r.loadedMs);
      if (kind !== 'floor') routes = r.routes;
    }
  for (const kind of KINDS) {
    const xs = times.get(kind)!;
    console.log(
      `cold start, ${kind.padEnd(15)} median ${median(xs).toFixed(0)} ms   spread ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)} ms   (${runs} processes)`,
    );
  }
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

const i = process.argv.indexOf('--cold-child');
if (i >= 0) {
  child(process.argv[i + 1] as Kind).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
