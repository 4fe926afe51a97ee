/**
 * I3 (docs/security.md) and the assets table: no secret reaches a table or a log line. The broker runs a
 * whole life on the wire — a consent through an appliance's link with its confirmation, tokens vended with
 * client_secret_basic and client_secret_post, refused requests that carry the secret, a tenant's own app
 * credential ("bring your own app") and a token through it, usage flushed — and then every row of every
 * table in Azurite is read through the broker's own TableStorage, and every line the Functions host and
 * the console were given is searched, for each secret in every form it travelled in: the appliance's client
 * secret (and its Basic header), the access tokens (and their signatures), the home app's secret, the
 * tenant's own app secret, the consent code, the consent `state` and the browser key of the binding cookie; and
 * for delegated mailboxes the grant's link code, the user's sign-in code and state, Microsoft's refresh token the
 * broker keeps sealed, the appliance's handle, a device code and the users' access tokens.
 * The broker is started as test/integration/broker-host.ts starts it, with the host's log kept.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TableServiceClient } from '@azure/data-tables';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import type { Broker } from '../../src/broker.js';
import { installCoreModule, startFunctionsHost, type RunningHost } from '../../local/functions-host.js';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { sandboxSettings } from '../integration/broker-host.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const SCOPE = 'https://outlook.office365.com/.default';
const lines: string[] = [];
let host: RunningHost;
let instance: () => Promise<Broker>;
let staff: string;

beforeAll(async () => {
  for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const original = console[level].bind(console);
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(' '));
      original(...args);
    });
  }
  Object.assign(process.env, sandboxSettings());
  const registry = installCoreModule();
  const dir = resolve(import.meta.dirname, '../../functions');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort()) {
    await import(pathToFileURL(join(dir, file)).href);
  }
  host = await startFunctionsHost({ port: 0, registry, log: (line) => lines.push(line) });
  const runtime = await import('../../functions/runtime.js');
  instance = () => runtime.broker();
  const res = await fetch(`${inject('controlUrl')}/_sim/staff-token`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user: inject('sandbox').staff.admin }),
  });
  staff = ((await res.json()) as { access_token: string }).access_token;
});
afterAll(async () => {
  await host?.close();
  vi.restoreAllMocks();
});

async function api<T = Record<string, unknown>>(method: string, path: string, body?: unknown) {
  const res = await fetch(`${host.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

type Credential = { clientId: string; clientSecret: string };
const basic = (c: Credential) =>
  Buffer.from(`${c.clientId}:${encodeURIComponent(c.clientSecret)}`).toString('base64');

function token(headers: Record<string, string>, body: Record<string, string>) {
  return fetch(`${host.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE, ...body }).toString(),
  });
}

async function vend(headers: Record<string, string>, body: Record<string, string> = {}): Promise<string> {
  const res = await token(headers, body);
  expect(res.status).toBe(200);
  return ((await res.json()) as { access_token: string }).access_token;
}

/** Every row of every table in the storage account, read through the broker's TableStorage port. */
async function everyRow(): Promise<{ table: string; text: string }[]> {
  const service = TableServiceClient.fromConnectionString(inject('tablesConnectionString'), {
    allowInsecureConnection: true,
  });
  const { tables } = await instance();
  const out: { table: string; text: string }[] = [];
  for await (const t of service.listTables()) {
    const table = tables.table(t.name!);
    let continuationToken: string | undefined;
    do {
      const page = await table.query({ top: 1000, ...(continuationToken ? { continuationToken } : {}) });
      for (const row of page.rows) out.push({ table: t.name!, text: JSON.stringify(row) });
      continuationToken = page.continuationToken;
    } while (continuationToken);
  }
  return out;
}

describe('secrets at rest and in logs (I3)', () => {
  it('puts no client secret, token, app secret, consent code, state or browser key in any table row or log line', async () => {
    const secrets: Record<string, string> = { 'home app secret': inject('sandbox').homeApp.clientSecret };

    // A customer consents through its appliance's link and confirms the appliance.
    const tenantId = await newTenant('Scan Corp', ['scancorp.example']);
    await control('POST', `/_sim/tenants/${tenantId}/users`, {
      userPrincipalName: 'admin@scancorp.example',
      directoryRoles: [GLOBAL_ADMIN],
    });
    const pbx = (
      await api<Credential>('POST', '/api/appliances', {
        customerRef: 'SCAN-1',
        profiles: ['exchange-imap'],
        auth: { method: 'client_secret' },
      })
    ).body;
    secrets['client secret'] = pbx.clientSecret;
    secrets['Basic credentials'] = basic(pbx);
    const created = await fetch(`${host.url}/appliance/onboardings`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic(pbx)}` },
    });
    const { consentUrl } = (await created.json()) as { consentUrl: string };
    secrets['consent code'] = new URL(consentUrl).pathname.split('/').pop()!;
    const browser = new ConsentBrowser(host.url);
    const page = await browser.submit(await browser.open(`${consentUrl}/go`), {
      user: 'admin@scancorp.example',
      decision: 'approve',
    });
    secrets['consent state'] = new URL(
      browser.visited.find((u) => u.includes('adminconsent'))!,
    ).searchParams.get('state')!;
    secrets['browser key'] = browser.cookieHeader('http://localhost:7071').split('=').slice(1).join('=');
    expect(secrets['browser key']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const done = await browser.submit(page, {});
    expect(done.status).toBe(200);
    if (!done.body.includes('Your organization is connected')) {
      const { reverifyPendingConsents } = await import('../../src/consent/verification.js');
      await reverifyPendingConsents({ ...(await instance()), now: () => new Date(Date.now() + 60_000) });
    }
    expect((await api(`GET`, `/api/appliances/${pbx.clientId}`)).body).toMatchObject({ tenantId });

    // An Entra outage as the admin's sign-in code is redeemed: the consent page answers 503, and the code and
    // the sign-in state it carried are kept nowhere.
    const again = (
      await api<{ consentUrl: string }>('POST', '/api/onboardings', {
        customerRef: 'SCAN-2',
        profiles: ['exchange-imap'],
      })
    ).body.consentUrl;
    secrets['second consent code'] = new URL(again).pathname.split('/').pop()!;
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      pathContains: `/${tenantId}/oauth2/v2.0/token`,
      bodyContains: 'grant_type=authorization_code',
      count: 1,
    });
    const second = new ConsentBrowser(host.url);
    const outage = await second.submit(await second.open(`${again}/go`), {
      user: 'admin@scancorp.example',
      decision: 'approve',
    });
    expect(outage.status).toBe(503);
    const signin = new URL(second.visited.find((u) => u.includes('/consent/signin'))!);
    secrets['authorization code'] = signin.searchParams.get('code')!;
    secrets['sign-in state'] = signin.searchParams.get('state')!;
    secrets['second browser key'] = second
      .cookieHeader('http://localhost:7071')
      .split('=')
      .slice(1)
      .join('=');

    // Tokens, both ways of sending the secret, and refusals that carry it.
    secrets['access token (Basic)'] = await vend({ authorization: `Basic ${basic(pbx)}` });
    secrets['access token (post)'] = await vend(
      {},
      { client_id: pbx.clientId, client_secret: pbx.clientSecret },
    );
    expect(
      (await token({ authorization: `Basic ${basic(pbx)}` }, { client_secret: pbx.clientSecret })).status,
    ).toBe(400);
    expect((await token({}, { client_id: pbx.clientId, client_secret: `${pbx.clientSecret}x` })).status).toBe(
      401,
    );
    expect(
      (await token({ authorization: `Basic ${basic(pbx)}` }, { scope: 'https://evil.example/.default' }))
        .status,
    ).toBe(400);

    // A tenant's own app credential, and a token through it.
    const own = await newTenant('Scan Own App', ['scanownapp.example']);
    const app = await control<{ appId: string }>('POST', '/_sim/apps', {
      homeTenantId: own,
      displayName: 'Scan own app',
      requiredRoles: {
        '00000002-0000-0ff1-ce00-000000000000': ['IMAP.AccessAsApp'],
        '00000003-0000-0000-c000-000000000000': ['Organization.Read.All'],
      },
    });
    secrets['own app secret'] = (
      await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {})
    ).value;
    // A Key Vault outage while a credential is set: the support API fails the request and logs it.
    secrets['own app secret (refused)'] = `fail-${randomBytes(24).toString('base64url')}`;
    await control('POST', '/_sim/faults', {
      target: 'keyvault',
      kind: 'status',
      status: 503,
      bodyContains: secrets['own app secret (refused)'],
    });
    const failed = await api('PUT', `/api/tenants/${own}/app-credential`, {
      clientId: app.appId,
      clientSecret: secrets['own app secret (refused)'],
      expiresOn: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    });
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(lines).toContainEqual(expect.stringContaining('support API PUT'));
    const put = await api('PUT', `/api/tenants/${own}/app-credential`, {
      clientId: app.appId,
      clientSecret: secrets['own app secret'],
      expiresOn: new Date(Date.now() + 365 * 86_400_000).toISOString(),
    });
    expect(put.status).toBe(200);
    const ownPbx = (
      await api<Credential>('POST', '/api/appliances', {
        customerRef: 'SCAN-OWN',
        tenantId: own,
        profiles: ['exchange-imap'],
        auth: { method: 'client_secret' },
      })
    ).body;
    secrets['own client secret'] = ownPbx.clientSecret;
    secrets['access token (own app)'] = await vend({ authorization: `Basic ${basic(ownPbx)}` });
    await (await instance()).usage.flush();

    // A mailbox grant: the link, the user's sign-in (its code), the handle, the user's token, and Microsoft's
    // refresh token the broker keeps sealed.
    const mailbox = 'queue@scancorp.example';
    await control('POST', `/_sim/tenants/${tenantId}/users`, { userPrincipalName: mailbox });
    const userPbx = (
      await api<Credential>('POST', '/api/appliances', {
        customerRef: 'SCAN-USER',
        tenantId,
        profiles: ['user-imap'],
        auth: { method: 'client_secret' },
      })
    ).body;
    secrets['user appliance secret'] = userPbx.clientSecret;
    const grant = (
      await api<{ id: string; consentUrl: string }>('POST', `/api/tenants/${tenantId}/mailbox-grants`, {
        applianceId: userPbx.clientId,
        profiles: ['user-imap'],
        mailbox,
      })
    ).body;
    secrets['grant link code'] = grant.consentUrl.split('/').pop()!;
    const user = new ConsentBrowser(host.url);
    expect((await user.submit(await user.open(`${grant.consentUrl}/go`), { login: mailbox })).status).toBe(
      200,
    );
    const back = new URL(user.visited.find((u) => u.includes('/mailbox-grants/callback'))!);
    secrets['grant sign-in code'] = back.searchParams.get('code')!;
    secrets['grant sign-in state'] = back.searchParams.get('state')!;
    const stored = (await (await instance()).mailboxGrants.get(tenantId, grant.id))!;
    secrets['user refresh token'] = await (await instance()).custody.open(stored.refreshToken!, grant.id);
    const read = await fetch(`${host.url}/appliance/mailbox-grants/${grant.id}`, {
      headers: { authorization: `Basic ${basic(userPbx)}` },
    });
    secrets['grant handle'] = ((await read.json()) as { refresh_token: string }).refresh_token;
    const refreshed = await fetch(`${host.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${basic(userPbx)}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: secrets['grant handle'] }),
    });
    secrets['access token (user)'] = ((await refreshed.json()) as { access_token: string }).access_token;
    // A refused refresh carrying the handle, and a device code with its user code.
    expect(
      (
        await fetch(`${host.url}/oauth2/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            client_id: userPbx.clientId,
            refresh_token: secrets['grant handle'],
          }),
        })
      ).status,
    ).toBe(401);
    const publicPbx = (
      await api<{ clientId: string }>('POST', '/api/appliances', {
        customerRef: 'SCAN-DEVICE',
        tenantId,
        profiles: ['user-smtp'],
        auth: { method: 'none' },
      })
    ).body;
    const codes = (await (
      await fetch(`${host.url}/${tenantId}/oauth2/v2.0/devicecode`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          client_id: publicPbx.clientId,
          scope: 'https://outlook.office.com/SMTP.Send',
        }),
      })
    ).json()) as { device_code: string; user_code: string };
    secrets['device code'] = codes.device_code;
    await control('POST', `/_sim/tenants/${tenantId}/users`, { userPrincipalName: 'alice@scancorp.example' });
    const device = new ConsentBrowser(host.url);
    const onDevice = await device.open(`http://localhost:7071/device/go?user_code=${codes.user_code}`);
    expect((await device.submit(onDevice, { login: 'alice@scancorp.example' })).status).toBe(200);
    const polled = (await (
      await fetch(`${host.url}/${tenantId}/oauth2/v2.0/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'device_code',
          client_id: publicPbx.clientId,
          device_code: codes.device_code,
        }),
      })
    ).json()) as { access_token: string; refresh_token: string };
    secrets['device handle'] = polled.refresh_token;
    secrets['access token (device)'] = polled.access_token;

    // A PBX enrolls itself into Scan Corp: its device code, and the client secret its poll receives once.
    const enrolled = (await (
      await fetch(`${host.url}/appliance/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'scope=exchange-imap',
      })
    ).json()) as { device_code: string; user_code: string };
    secrets['enrollment device code'] = enrolled.device_code;
    const enrolling = new ConsentBrowser(host.url);
    const confirmEnrolled = await enrolling.submit(
      await enrolling.open(`http://localhost:7071/enroll/go?user_code=${enrolled.user_code}`),
      { user: 'admin@scancorp.example', decision: 'approve' },
    );
    expect((await enrolling.submit(confirmEnrolled, {})).status).toBe(200);
    const credential = (await (
      await fetch(`${host.url}/oauth2/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'urn:ietf:params:oauth:grant-type:device_code',
          device_code: enrolled.device_code,
        }).toString(),
      })
    ).json()) as { client_secret: string };
    secrets['enrolled client secret'] = credential.client_secret;

    for (const name of Object.keys(secrets).filter((n) => n.startsWith('access token')))
      secrets[`${name} signature`] = secrets[name]!.split('.')[2]!;
    for (const [name, value] of Object.entries(secrets)) expect(value.length, name).toBeGreaterThan(20);
    // Short, but a secret while it lives (9 characters: not found by accident).
    secrets['enrollment user code'] = enrolled.user_code;

    const rows = await everyRow();
    const names = new Set(rows.map((r) => r.table));
    for (const t of [
      'appliances',
      'audit',
      'changes',
      'enrollments',
      'mailboxgrants',
      'onboardings',
      'states',
      'tenants',
    ])
      expect(names).toContain(t);
    // The scan sees what is there: the appliance's client id is in its row and in the audit.
    expect(rows.filter((r) => r.text.includes(pbx.clientId)).map((r) => r.table)).toEqual(
      expect.arrayContaining(['appliances', 'audit', 'onboardings']),
    );
    expect(rows.length).toBeGreaterThan(10);
    const found = (texts: { where: string; text: string }[]) =>
      Object.entries(secrets).flatMap(([name, value]) =>
        texts.filter((t) => t.text.includes(value)).map((t) => `${name} in ${t.where}`),
      );
    expect(found(rows.map((r) => ({ where: `table ${r.table}`, text: r.text })))).toEqual([]);
    expect(lines.length).toBeGreaterThan(0);
    expect(found(lines.map((text) => ({ where: 'the log', text })))).toEqual([]);
  }, 120_000);
});
