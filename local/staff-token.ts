/**
 * `npm run staff-token [-- --reader] [-- --v2]`: prints an access token for the support API, issued by the
 * sandbox's simulated Entra ID to a vendor support user (Broker.Admin, or Broker.Read with --reader), so that
 * a newcomer can call the API with curl. Needs `npm start` running (it reads .data/sandbox/endpoints.json).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

interface SandboxFile {
  readonly controlUrl: string;
  readonly caCertPath: string;
  readonly staff: { readonly admin: string; readonly reader: string };
}

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = resolve(process.env.BROKER_DATA_DIR ?? join(root, '.data'));

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const unknown = args.filter((a) => !['--reader', '--v2'].includes(a));
  if (unknown.length)
    throw new Error(
      `unknown option ${unknown.join(' ')}; options: --reader (Broker.Read only), --v2 (v2.0 token)`,
    );
  let sandbox: SandboxFile;
  try {
    sandbox = JSON.parse(await readFile(join(dataDir, 'sandbox', 'endpoints.json'), 'utf8')) as SandboxFile;
  } catch {
    throw new Error('no sandbox is running here: start it with `npm start` (in another terminal) first');
  }
  const reader = args.includes('--reader');
  const body = JSON.stringify({
    user: reader ? sandbox.staff.reader : sandbox.staff.admin,
    version: args.includes('--v2') ? 2 : 1,
  });
  // This process was not started with the sandbox CA in NODE_EXTRA_CA_CERTS, so it names the CA itself.
  const ca = await readFile(sandbox.caCertPath, 'utf8');
  const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = request(
      `${sandbox.controlUrl}/_sim/staff-token`,
      {
        method: 'POST',
        ca,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', () =>
      reject(
        new Error(`the sandbox at ${sandbox.controlUrl} does not answer: is \`npm start\` still running?`),
      ),
    );
    req.end(body);
  });
  if (answer.status !== 200)
    throw new Error(`the simulated Entra ID refused: ${answer.status} ${answer.text}`);
  const token = (JSON.parse(answer.text) as { access_token: string }).access_token;
  process.stdout.write(`${token}\n`);
}

main().catch((err: unknown) => {
  console.error(`staff-token: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
