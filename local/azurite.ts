/**
 * Azurite's table service as the sandbox's Table Storage, from the npm `azurite` package, in a child
 * process with its data under the given folder. Stopped with SIGINT so that it saves first: Azurite's
 * LokiJS store autosaves every 5 s, and a SIGTERM or SIGKILL loses the writes since (FACTS.md §10).
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { freePort } from './free-port.js';

/** Azurite's well-known development account (FACTS.md §10; Azurite README). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
const AZURITE_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

export interface RunningAzurite {
  readonly connectionString: string;
  readonly tableEndpoint: string;
  stop(): Promise<void>;
}

export async function startAzurite(options: {
  location: string;
  port?: number;
  startTimeoutMs?: number;
}): Promise<RunningAzurite> {
  await mkdir(options.location, { recursive: true });
  const port = options.port ?? (await freePort());
  const require = createRequire(import.meta.url);
  const main = join(dirname(require.resolve('azurite/package.json')), 'dist/src/table/main.js');
  const child = spawn(
    process.execPath,
    [
      main,
      '--location',
      options.location,
      '--tableHost',
      '127.0.0.1',
      '--tablePort',
      String(port),
      '--silent',
      '--disableTelemetry',
      '--skipApiVersionCheck',
      '--loose',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output: string[] = [];
  child.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  child.stderr?.on('data', (d: Buffer) => output.push(d.toString()));

  await waitForStart(child, output, options.startTimeoutMs ?? 60_000, port);
  const tableEndpoint = `http://127.0.0.1:${port}/${AZURITE_ACCOUNT}`;
  return {
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_KEY};TableEndpoint=${tableEndpoint};`,
    tableEndpoint,
    stop: () => stopChild(child),
  };
}

function waitForStart(child: ChildProcess, output: string[], timeoutMs: number, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `Azurite did not start within ${timeoutMs} ms on port ${port}: ${output.join('').trim() || 'no output'}`,
        ),
      );
    }, timeoutMs);
    const onData = () => {
      const text = output.join('');
      if (text.includes('successfully started') || text.includes('successfully listening')) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const text = output.join('').trim();
      const hint = /EADDRINUSE/.test(text) ? ` (port ${port} is in use)` : '';
      reject(
        new Error(`Azurite exited during start (${signal ?? `code ${code}`})${hint}: ${text || 'no output'}`),
      );
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
