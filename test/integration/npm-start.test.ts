/**
 * A newcomer's first minutes: `npm start` on a checkout with no settings builds the broker, starts every
 * stand-in and serves a healthy /api/health; Ctrl-C stops it all. A broken setting stops it with a message
 * naming the setting.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../local/free-port.js';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { IDENTITY_BY_SECRET, SETTINGS } from '../helpers/settings.js';
import { control, newTenant } from '../helpers/sim-control.js';

/** Every setting that would point the sandbox at a real service (PORT and NODE_EXTRA_CA_CERTS are the test's own). */
const CLEARED = [...SETTINGS, ...IDENTITY_BY_SECRET].filter(
  (s) => s !== 'PORT' && s !== 'NODE_EXTRA_CA_CERTS',
);

function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const s of CLEARED) delete env[s];
  return { ...env, ...extra };
}

function collect(child: ChildProcess): () => string {
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  return () => out;
}

const PERSISTED_TENANT = '0e1d2c3b-4a59-4687-9a0b-1c2d3e4f5a6b';

/** Calls the sandbox's control surface with the CA that sandbox generated (this process does not trust it). */
async function sandboxControl(dataDir: string, method: string, path: string, body?: unknown) {
  const endpoints = JSON.parse(await readFile(join(dataDir, 'sandbox', 'endpoints.json'), 'utf8')) as {
    controlUrl: string;
    caCertPath: string;
  };
  const ca = await readFile(endpoints.caCertPath, 'utf8');
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise<{ status: number; body: unknown }>((resolve, reject) => {
    const req = httpsRequest(
      `${endpoints.controlUrl}${path}`,
      { method, ca, headers: { 'content-type': 'application/json' } },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as unknown) : undefined }),
        );
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** GETs a URL of the sandbox's simulators with the CA that sandbox generated. */
async function sandboxGet(dataDir: string, url: string): Promise<unknown> {
  const endpoints = JSON.parse(await readFile(join(dataDir, 'sandbox', 'endpoints.json'), 'utf8')) as {
    caCertPath: string;
  };
  const ca = await readFile(endpoints.caCertPath, 'utf8');
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve(JSON.parse(text) as unknown));
    });
    req.on('error', reject);
    req.end();
  });
}

async function runNode(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  const output = collect(child);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, stdout, output: output() };
}

async function waitForHealthy(port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const ok = await fetch(`http://127.0.0.1:${port}/api/health`)
      .then(async (r) => r.status === 200 && ((await r.json()) as { status: string }).status === 'ok')
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error('the broker did not become healthy');
}

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

describe('npm start (as a newcomer runs it)', () => {
  it(
    'serves a healthy broker with every stand-in up, and stops everything on Ctrl-C',
    { timeout: 180_000 },
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'broker-start-'));
      dirs.push(dataDir);
      const port = await freePort();
      const child = spawn('npm', ['start'], {
        env: cleanEnv({ PORT: String(port), BROKER_DATA_DIR: dataDir }),
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true,
      });
      const output = collect(child);
      try {
        let health: { status: string; dependencies: Record<string, { status: string }> } | undefined;
        const deadline = Date.now() + 150_000;
        while (Date.now() < deadline && child.exitCode === null) {
          try {
            const res = await fetch(`http://127.0.0.1:${port}/api/health`);
            health = (await res.json()) as typeof health;
            if (res.status === 200 && health?.status === 'ok') break;
          } catch {
            // not listening yet
          }
          await new Promise((r) => setTimeout(r, 500));
        }
        expect(child.exitCode, `npm start exited early:\n${output()}`).toBeNull();
        expect(health, output()).toBeDefined();
        expect(health!.status, JSON.stringify(health)).toBe('ok');
        expect(Object.keys(health!.dependencies)).toEqual(
          expect.arrayContaining(['tableStorage', 'keyVault', 'entra']),
        );
        expect(output()).toContain('SANDBOX: these settings are absent');
        const unauthenticated = await fetch(`http://127.0.0.1:${port}/api/tenants`);
        expect(unauthenticated.status).toBe(401);

        // README "Sandbox": a staff token from `npm run staff-token` opens the support API.
        const token = await runNode(['dist/local/staff-token.js'], { BROKER_DATA_DIR: dataDir });
        expect(token.code, token.output).toBe(0);
        const tenants = await fetch(`http://127.0.0.1:${port}/api/tenants`, {
          headers: { authorization: `Bearer ${token.stdout.trim()}` },
        });
        expect(tenants.status).toBe(200);
        expect(await tenants.json()).toEqual({ items: [] });

        // A change to the simulated cloud, which must survive a restart.
        await sandboxControl(dataDir, 'POST', '/_sim/tenants', {
          id: PERSISTED_TENANT,
          displayName: 'Persisted Ltd',
        });
      } finally {
        // If `npm start` already exited, its process group is gone and the assertion above says why.
        if (child.exitCode === null && child.signalCode === null) {
          const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
          process.kill(-child.pid!, 'SIGINT');
          await exited;
        }
      }
      await expect(fetch(`http://127.0.0.1:${port}/api/health`)).rejects.toThrow();

      // Started again on the same data: the same simulated cloud (the World is kept in .data/sandbox).
      const again = spawn(process.execPath, ['dist/local/start.js'], {
        env: cleanEnv({ PORT: String(port), BROKER_DATA_DIR: dataDir }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const againOutput = collect(again);
      try {
        await waitForHealthy(port, again);
        const tenant = await sandboxControl(dataDir, 'GET', `/_sim/tenants/${PERSISTED_TENANT}`);
        expect(tenant, againOutput()).toMatchObject({ status: 200, body: { displayName: 'Persisted Ltd' } });
      } finally {
        const exited = new Promise((resolve) => again.once('exit', resolve));
        again.kill('SIGINT');
        await exited;
      }
    },
  );

  it('runs the sandbox as a national cloud with BROKER_CLOUD alone', { timeout: 120_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'broker-start-'));
    dirs.push(dataDir);
    const port = await freePort();
    // dist/ was built by the first test (or by any earlier `npm start`); run the launcher directly.
    const child = spawn(process.execPath, ['dist/local/start.js'], {
      env: cleanEnv({ PORT: String(port), BROKER_DATA_DIR: dataDir, BROKER_CLOUD: 'AzureUSGovernment' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collect(child);
    try {
      await waitForHealthy(port, child).catch((err: Error) => {
        throw new Error(`${err.message}:\n${output()}`);
      });
      expect(output()).toContain('The stand-ins behave as the AzureUSGovernment cloud');
      // The sandbox's Entra ID names Azure Government's issuer in its metadata, not its own host.
      const endpoints = JSON.parse(await readFile(join(dataDir, 'sandbox', 'endpoints.json'), 'utf8')) as {
        entraUrl: string;
        vendorTenantId: string;
      };
      const metadata = (await sandboxGet(
        dataDir,
        `${endpoints.entraUrl}/${endpoints.vendorTenantId}/v2.0/.well-known/openid-configuration`,
      )) as { issuer: string };
      expect(metadata.issuer).toBe(`https://login.microsoftonline.us/${endpoints.vendorTenantId}/v2.0`);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
    }
  });

  it('stops at start with a message naming a malformed setting', { timeout: 60_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'broker-start-'));
    dirs.push(dataDir);
    const port = await freePort();
    // dist/ was built by the test above (or by any earlier `npm start`); run the launcher directly.
    const child = spawn(process.execPath, ['dist/local/start.js'], {
      env: cleanEnv({ PORT: String(port), BROKER_DATA_DIR: dataDir, HOME_APP_CLIENT_ID: 'not-a-guid' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collect(child);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(output()).toContain('HOME_APP_CLIENT_ID must be a GUID, got "not-a-guid"');
    expect(output()).not.toMatch(/\n\s+at /); // no stack trace
  });

  async function runLauncher(env: Record<string, string>) {
    const child = spawn(process.execPath, ['dist/local/start.js'], {
      env: cleanEnv(env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output = collect(child);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    return { code, output: output() };
  }

  it(
    'says which port is in use instead of hanging, and stops the stand-ins',
    { timeout: 60_000 },
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'broker-start-'));
      dirs.push(dataDir);
      const blocker = createServer();
      const port = await freePort();
      await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
      try {
        const { code, output } = await runLauncher({ PORT: String(port), BROKER_DATA_DIR: dataDir });
        expect(code).not.toBe(0);
        expect(output).toContain(`PORT ${port} is already in use`);
        expect(output).toContain('the stand-ins are stopped too');
      } finally {
        blocker.close();
      }
    },
  );

  it('names a damaged .data/azurite and how to recover', { timeout: 60_000 }, async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'broker-start-'));
    dirs.push(dataDir);
    await mkdir(join(dataDir, 'azurite'), { recursive: true });
    await writeFile(join(dataDir, 'azurite', '__azurite_db_table__.json'), 'garbage{');
    const { code, output } = await runLauncher({ PORT: String(await freePort()), BROKER_DATA_DIR: dataDir });
    expect(code).not.toBe(0);
    expect(output).toContain('Azurite exited during start');
    expect(output).toContain(
      `If ${join(dataDir, 'azurite')} is damaged, remove it to start with empty tables.`,
    );
  });
});

/**
 * The stand-ins are independent. The test run's own simulators (started by
 * test/global-setup.ts in another process, with their own CA, tenants and keys) play the vendor's outside
 * Entra ID and Graph; `npm start` embeds only Key Vault and Table Storage. Before the fix the broker asked the
 * outside Entra for its Key Vault token with the sandbox's own identity, and every consent and every
 * `POST /api/appliances` answered 500.
 */
describe('npm start against an outside Entra ID and Graph', () => {
  it(
    'runs the whole consent flow and vends a token, with the embedded vault and Azurite',
    { timeout: 120_000 },
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'broker-start-'));
      dirs.push(dataDir);
      const port = await freePort();
      const outside = inject('sandbox');
      // What a vendor sets to try the broker against its development tenant (README "Sandbox").
      const child = spawn(process.execPath, ['dist/local/start.js'], {
        env: cleanEnv({
          PORT: String(port),
          BROKER_DATA_DIR: dataDir,
          BROKER_PUBLIC_URL: 'http://localhost:7071',
          ENTRA_AUTHORITY_HOST: inject('entraUrl'),
          GRAPH_ENDPOINT: inject('graphUrl'),
          HOME_APP_CLIENT_ID: outside.homeApp.clientId,
          HOME_APP_CLIENT_SECRET: outside.homeApp.clientSecret,
          VENDOR_TENANT_ID: outside.vendorTenantId,
        }),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const output = collect(child);
      try {
        await waitForHealthy(port, child);
        expect(output()).toContain('Key Vault simulator');
        expect(output()).not.toContain('Entra ID simulator');
        const broker = `http://127.0.0.1:${port}`;
        const staff = await (
          await fetch(`${inject('controlUrl')}/_sim/staff-token`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ user: outside.staff.admin }),
          })
        ).json();
        const api = async (method: string, path: string, body?: unknown) => {
          const res = await fetch(`${broker}${path}`, {
            method,
            headers: {
              authorization: `Bearer ${(staff as { access_token: string }).access_token}`,
              'content-type': 'application/json',
            },
            body: body === undefined ? undefined : JSON.stringify(body),
          });
          return { status: res.status, body: (await res.json()) as Record<string, unknown> };
        };

        const tenantId = await newTenant('Outside Cloud GmbH', ['outsidecloud.example']);
        await control('POST', `/_sim/tenants/${tenantId}/users`, {
          userPrincipalName: 'admin@outsidecloud.example',
          directoryRoles: ['62e90394-69f5-4237-9190-012177145e10'],
        });
        const onboarding = await api('POST', '/api/onboardings', {
          customerRef: 'OUTSIDE-1',
          profiles: ['exchange-imap'],
        });
        expect(onboarding.status, output()).toBe(201);
        const browser = new ConsentBrowser(broker);
        const done = await browser.submit(await browser.open(`${String(onboarding.body.consentUrl)}/go`), {
          user: 'admin@outsidecloud.example',
          decision: 'approve',
        });
        expect(done.status, done.body).toBe(200);
        expect(done.body).toContain('Your organization is connected');

        const pbx = await api('POST', '/api/appliances', {
          customerRef: 'OUTSIDE-1',
          tenantId,
          profiles: ['exchange-imap'],
          auth: { method: 'client_secret' },
        });
        expect(pbx.status, output()).toBe(201);
        const { clientId, clientSecret } = pbx.body as { clientId: string; clientSecret: string };
        const token = await fetch(`${broker}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'client_credentials',
            client_id: clientId,
            client_secret: clientSecret,
            scope: 'https://outlook.office365.com/.default',
          }).toString(),
        });
        expect(token.status, output()).toBe(200);
        // Issued by the outside Entra: its issuer names the outside tenant.
        const claims = JSON.parse(
          Buffer.from(
            ((await token.json()) as { access_token: string }).access_token.split('.')[1]!,
            'base64url',
          ).toString(),
        ) as { tid: string };
        expect(claims.tid).toBe(tenantId);
      } finally {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGINT');
        await exited;
      }
    },
  );

  it(
    'refuses an outside Entra without its Graph, or without its home app, naming the settings',
    { timeout: 60_000 },
    async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'broker-start-'));
      dirs.push(dataDir);
      const base = { PORT: String(await freePort()), BROKER_DATA_DIR: dataDir };
      const half = await runNode(['dist/local/start.js'], {
        ...base,
        ENTRA_AUTHORITY_HOST: inject('entraUrl'),
      });
      expect(half.code).not.toBe(0);
      expect(half.output).toContain('ENTRA_AUTHORITY_HOST is set but GRAPH_ENDPOINT is not');
      const noApp = await runNode(['dist/local/start.js'], {
        ...base,
        ENTRA_AUTHORITY_HOST: inject('entraUrl'),
        GRAPH_ENDPOINT: inject('graphUrl'),
      });
      expect(noApp.code).not.toBe(0);
      expect(noApp.output).toContain('HOME_APP_CLIENT_ID, VENDOR_TENANT_ID, HOME_APP_CLIENT_SECRET');
    },
  );
});
