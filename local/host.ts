/**
 * The broker process under `npm start`: the local stand-in for the Functions host. It provides the
 * `@azure/functions-core` module, loads the compiled function registrations named by package.json `main`
 * (as the Functions host does), and serves them on PORT (default 7071).
 * @module
 */
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installCoreModule, startFunctionsHost } from './functions-host.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

async function main(): Promise<void> {
  const portText = process.env.PORT ?? '7071';
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new Error(`PORT must be a TCP port number (1-65535), got "${portText}"`);
  }
  const registry = installCoreModule();
  for (const file of await functionFiles()) await import(pathToFileURL(file).href);
  const host = await startFunctionsHost({
    port: Number(portText),
    host: process.env.HOST ?? '127.0.0.1',
    registry,
  });
  console.log(
    `[host] serving ${registry.http.length} HTTP functions and ${registry.timers.length} timers on ${host.url}`,
  );
  for (const f of registry.http)
    console.log(`[host]   ${f.methods.join(',').padEnd(12)} /${f.route}  (${f.name})`);
  const stop = () => {
    void host.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

/** The files package.json `main` names: a glob whose last segment is `*.js`, as the Functions host accepts. */
async function functionFiles(): Promise<string[]> {
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { main?: string };
  const main = pkg.main ?? 'dist/functions/*.js';
  const dir = join(root, dirname(main));
  const pattern = new RegExp(`^${main.split('/').pop()!.replace(/\./g, '\\.').replace(/\*/g, '.*')}$`);
  return (await readdir(dir))
    .filter((f) => pattern.test(f))
    .sort()
    .map((f) => join(dir, f));
}

main().catch((err: unknown) => {
  // A configuration or profiles error names what is wrong; print it without a stack trace.
  const message = err instanceof Error ? err.message : String(err);
  console.error(`[host] the broker cannot start:\n${message}`);
  process.exit(1);
});
