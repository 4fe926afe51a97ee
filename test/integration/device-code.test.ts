/**
 * The device-code flow on the wire (src/vending/device-code.ts, src/grants/device-verification.ts), as OpenScape
 * firmware runs it against Entra with only the host changed: a public client (no secret) asks
 * `/{tenant}/oauth2/v2.0/devicecode` for the SMTP scope, shows the code, polls (`authorization_pending`,
 * `slow_down`), the user enters the code on the broker's page and signs in at the simulated Microsoft, and the
 * next poll gets the user's access token and a broker handle as `refresh_token` — once. The handle then refreshes
 * for that public client only. Declined, expired, unknown and foreign codes get Entra's errors; unknown user
 * codes are throttled per address.
 * @module
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let admin: string;
let tenant: ConsentedTenant;
let device: string;
let otherDevice: string;

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
const SMTP_AS_FIRMWARE_ASKS = 'https://outlook.office.com/SMTP.Send offline_access';

async function register(
  body: Record<string, unknown>,
): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${broker.url}/api/appliances`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

async function form(path: string, fields: Record<string, string>) {
  const res = await fetch(`${broker.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, string> };
}

const deviceCode = (clientId = device, scope = SMTP_AS_FIRMWARE_ASKS) =>
  form(`/${tenant.tenantId}/oauth2/v2.0/devicecode`, { client_id: clientId, scope });

const poll = (code: string, clientId = device) =>
  form(`/${tenant.tenantId}/oauth2/v2.0/token`, {
    grant_type: DEVICE_GRANT,
    client_id: clientId,
    device_code: code,
  });

/** The user at the verification page with the code, signing in as `user`. */
async function userSignsIn(userCode: string, user: string) {
  const browser = new ConsentBrowser(broker.url);
  const entry = await browser.open('http://localhost:7071/device');
  expect(entry.status).toBe(200);
  expect(entry.body).toContain('name="user_code"');
  const typed = userCode.toLowerCase().replace('-', '');
  const landing = await browser.open(`http://localhost:7071/device?user_code=${typed}`);
  expect(landing.status, landing.body.slice(0, 300)).toBe(200);
  expect(landing.body).toContain('OpenScape-Reception');
  expect(landing.body).toContain('SMTP.Send');
  const microsoft = await browser.open(`http://localhost:7071/device/go?user_code=${typed}`);
  return { browser, microsoft, done: () => browser.submit(microsoft, { login: user }) };
}

beforeAll(async () => {
  broker = await startTestBroker();
  admin = await broker.staffToken();
  tenant = await consentedTenant(broker.url, admin, 'Device Code Ltd');
  const made = await register({
    customerRef: 'OpenScape-Reception',
    tenantId: tenant.tenantId,
    profiles: ['user-smtp'],
    auth: { method: 'none' },
  });
  expect(made.status).toBe(201);
  expect(made.body.clientSecret).toBeUndefined();
  device = made.body.clientId!;
  otherDevice = (
    await register({
      customerRef: 'OpenScape-Other',
      tenantId: tenant.tenantId,
      profiles: ['user-smtp'],
      auth: { method: 'none' },
    })
  ).body.clientId!;
}, 60_000);

afterAll(async () => {
  await broker?.close();
});

describe('a public client appliance', () => {
  it('is registered only with a tenant and delegated profiles, and gets no client-credentials token', async () => {
    expect(
      (
        await register({
          customerRef: 'x',
          tenantId: null,
          profiles: ['user-smtp'],
          auth: { method: 'none' },
        })
      ).body.detail,
    ).toContain('tenantId is required');
    const appOnly = await register({
      customerRef: 'x',
      tenantId: tenant.tenantId,
      profiles: ['user-smtp', 'exchange-imap'],
      auth: { method: 'none' },
    });
    expect(appOnly.status).toBe(400);
    expect(appOnly.body.detail).toContain('exchange-imap is app-only');
    const cc = await form('/oauth2/token', {
      grant_type: 'client_credentials',
      client_id: device,
      scope: 'https://outlook.office365.com/.default',
    });
    expect(cc.status).toBe(401);
    expect(cc.body.error).toBe('invalid_client');
    // Support cannot hand it a link: its handle could reach it only by a device code's poll.
    const link = await fetch(`${broker.url}/api/tenants/${tenant.tenantId}/mailbox-grants`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ applianceId: device, profiles: ['user-smtp'] }),
    });
    expect(link.status).toBe(409);
  });
});

describe('the device-code flow', () => {
  it('runs as OpenScape firmware runs it against Entra, ending with the user’s SMTP token and a handle', async () => {
    const user = `reception@${tenant.domain}`;
    await control('POST', `/_sim/tenants/${tenant.tenantId}/users`, { userPrincipalName: user });
    const started = await deviceCode();
    expect(started.status).toBe(200);
    expect(started.headers.get('cache-control')).toContain('no-store');
    const codes = started.body as unknown as Record<string, string | number>;
    expect(codes).toMatchObject({
      verification_uri: 'http://localhost:7071/device',
      expires_in: 900,
      interval: 5,
    });
    expect(codes.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(codes.device_code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(codes.message).toBe(
      `To sign in, use a web browser to open the page http://localhost:7071/device and enter the code ${codes.user_code} to authenticate.`,
    );
    const dc = String(codes.device_code);

    const pending = await poll(dc);
    expect(pending.status).toBe(400);
    expect(pending.body.error).toBe('authorization_pending');
    expect(pending.body.error_description).toContain('AADSTS70016');
    // Polling again at once, faster than the interval: RFC 8628 §3.5.
    const tooFast = await poll(dc);
    expect(tooFast.body.error).toBe('slow_down');
    expect(tooFast.body.error_description).toContain('10 seconds');

    const signIn = await userSignsIn(String(codes.user_code), user);
    const done = await signIn.done();
    expect(done.status, done.body.slice(0, 300)).toBe(200);
    expect(done.body).toContain('Your device goes on by itself');

    const granted = await poll(dc);
    expect(granted.status, JSON.stringify(granted.body)).toBe(200);
    expect(granted.body).toMatchObject({
      token_type: 'Bearer',
      scope: 'https://outlook.office365.com/SMTP.Send',
    });
    expect(decodeJwt(granted.body.access_token!)).toMatchObject({
      aud: 'https://outlook.office365.com',
      scp: 'SMTP.Send',
      upn: user,
      tid: tenant.tenantId,
    });
    const handle = granted.body.refresh_token!;
    expect(handle).toMatch(/^mbh_[A-Za-z0-9_-]{43}$/);

    // Given once.
    const again = await poll(dc);
    expect(again.body.error).toBe('invalid_grant');
    expect(again.body.error_description).toContain('already used');

    // The handle refreshes for this public client (client_id only), as Entra's refresh of a public client does.
    const refreshed = await form(`/${tenant.tenantId}/oauth2/v2.0/token`, {
      grant_type: 'refresh_token',
      client_id: device,
      refresh_token: handle,
      scope: SMTP_AS_FIRMWARE_ASKS,
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).toBe(handle);
    expect(decodeJwt(refreshed.body.access_token!).upn).toBe(user);
    // Worthless to another appliance, and without client_id.
    const foreign = await form('/oauth2/token', {
      grant_type: 'refresh_token',
      client_id: otherDevice,
      refresh_token: handle,
    });
    expect(foreign.body.error).toBe('invalid_grant');
    const anonymous = await form('/oauth2/token', { grant_type: 'refresh_token', refresh_token: handle });
    expect(anonymous.body.error).toBe('invalid_request');

    // Support sees the grant, made by the device, for the user who signed in; nothing secret in it.
    const list = await fetch(`${broker.url}/api/tenants/${tenant.tenantId}/mailbox-grants`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const text = await list.text();
    expect(text).not.toContain(handle);
    expect(text).not.toContain(dc);
    const items = (
      JSON.parse(text) as {
        items: { applianceId: string; status: string; user: { userPrincipalName: string } | null }[];
      }
    ).items;
    expect(
      items.find((g) => g.applianceId === device && g.status === 'active')?.user?.userPrincipalName,
    ).toBe(user);
  });

  it('answers as Entra’s own device-code endpoint does (the simulator’s): same fields, wording and polling errors', async () => {
    const app = await control<{ appId: string }>('POST', '/_sim/apps', {
      displayName: 'Firmware at Entra',
      homeTenantId: tenant.tenantId,
      publicClient: true,
      requiredScopes: { '00000003-0000-0000-c000-000000000000': ['SMTP.Send'] },
    });
    await control('POST', `/_sim/tenants/${tenant.tenantId}/consents`, { appId: app.appId });
    const entraUrl = inject('entraUrl');
    const atEntra = await fetch(`${entraUrl}/${tenant.tenantId}/oauth2/v2.0/devicecode`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: app.appId, scope: 'https://outlook.office365.com/SMTP.Send' }),
    });
    const entra = (await atEntra.json()) as Record<string, string | number>;
    const broker = (await deviceCode()).body as unknown as Record<string, string | number>;
    expect(Object.keys(broker).sort()).toEqual(Object.keys(entra).sort());
    expect([broker.expires_in, broker.interval]).toEqual([entra.expires_in, entra.interval]);
    const wording = (r: Record<string, string | number>) =>
      String(r.message).replace(String(r.verification_uri), 'URI').replace(String(r.user_code), 'CODE');
    expect(wording(broker)).toBe(wording(entra));
    const entraPoll = await fetch(`${entraUrl}/${tenant.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: DEVICE_GRANT,
        client_id: app.appId,
        device_code: String(entra.device_code),
      }),
    });
    const brokerPoll = await poll(String(broker.device_code));
    expect([brokerPoll.status, brokerPoll.body.error]).toEqual([
      entraPoll.status,
      ((await entraPoll.json()) as { error: string }).error,
    ]);
  });

  it('answers a decline at Microsoft with authorization_declined', async () => {
    const started = await deviceCode();
    const user = `declines@${tenant.domain}`;
    await control('POST', `/_sim/tenants/${tenant.tenantId}/users`, { userPrincipalName: user });
    const { browser } = await userSignsIn(started.body.user_code!, user);
    const authorize = new URL(browser.visited.findLast((u) => u.includes('/oauth2/v2.0/authorize'))!);
    // Entra's redirect when the user cancels: error=access_denied (AADSTS65004, FACTS.md §3).
    const back = await browser.open(
      `http://localhost:7071/mailbox-grants/callback?${new URLSearchParams({
        error: 'access_denied',
        error_description: 'AADSTS65004: User declined to consent to access the app.',
        state: authorize.searchParams.get('state')!,
      })}`,
    );
    expect(back.status).toBe(403);
    const declined = await poll(started.body.device_code!);
    expect(declined.body.error).toBe('authorization_declined');
  });

  it('answers expired_token once the 15 minutes are over, and bad_verification_code for codes not its own', async () => {
    const started = await deviceCode();
    const b = await broker.instance();
    const grant = (await b.mailboxGrants.byDeviceCode(started.body.device_code!))!;
    await b.mailboxGrants.update({ ...grant, expiresAt: new Date(Date.now() - 1000).toISOString() });
    const expired = await poll(started.body.device_code!);
    expect(expired.body.error).toBe('expired_token');
    expect(expired.body.error_description).toContain('AADSTS70019');

    const mine = await deviceCode();
    expect((await poll(mine.body.device_code!, otherDevice)).body.error).toBe('bad_verification_code');
    expect((await poll('A'.repeat(43))).body.error).toBe('bad_verification_code');
    expect((await poll('short')).body.error).toBe('bad_verification_code');
  });

  it('refuses bad requests clearly, storing nothing', async () => {
    const b = await broker.instance();
    const before = (await b.mailboxGrants.list(tenant.tenantId, { top: 1000 })).items.length;
    const cases: [Record<string, string>, number, string][] = [
      [{ client_id: device }, 400, 'invalid_scope'],
      [{ client_id: device, scope: 'offline_access openid' }, 400, 'invalid_scope'],
      [
        { client_id: device, scope: 'https://outlook.office.com/IMAP.AccessAsUser.All' },
        400,
        'invalid_scope',
      ],
      [{ scope: SMTP_AS_FIRMWARE_ASKS }, 400, 'invalid_request'],
      [
        { client_id: '00000000-0000-4000-8000-000000000009', scope: SMTP_AS_FIRMWARE_ASKS },
        401,
        'invalid_client',
      ],
    ];
    for (const [fields, status, error] of cases) {
      const res = await form(`/${tenant.tenantId}/oauth2/v2.0/devicecode`, fields);
      expect([res.status, res.body.error], JSON.stringify(fields)).toEqual([status, error]);
    }
    const otherTenant = await form('/00000000-0000-4000-8000-00000000000a/oauth2/v2.0/devicecode', {
      client_id: device,
      scope: SMTP_AS_FIRMWARE_ASKS,
    });
    expect(otherTenant.body.error).toBe('unauthorized_client');
    expect((await b.mailboxGrants.list(tenant.tenantId, { top: 1000 })).items.length).toBe(before);
  });

  it('throttles unknown user codes per address', async () => {
    const browser = new ConsentBrowser(broker.url);
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push(
        (await browser.open(`http://localhost:7071/device?user_code=BBBB-BBB${'BCDFGHJKLMN'[i]}`)).status,
      );
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(404));
    expect(statuses[10]).toBe(429);
  });
});
