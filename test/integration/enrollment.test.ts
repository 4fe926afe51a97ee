/**
 * Zero-touch enrollment on the wire (src/appliances/enrollment.ts): a PBX without a credential asks to be enrolled,
 * its tenant's admin enters the code in a browser, consents at the simulated Microsoft, signs in and confirms the
 * device; the device's poll then gets its own credential once, and its first token. Refusals: an unknown code, a
 * non-admin, a tenant the vendor has not onboarded (BROKER_ENROLLMENT=onboarded, the default), too many sign-ins
 * with one code, too many enrollments from one address; and no code or secret is stored in clear.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control, tenantWithAdmin } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

const DEVICE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
let broker: TestBroker;
let staff: string;
let tenant: ConsentedTenant;
let admin: string;
const seen: string[] = [];

interface Codes {
  device_code: string;
  user_code: string;
  verification_uri: string;
  verification_uri_complete: string;
  expires_in: number;
  interval: number;
}

async function enroll(
  fields: Record<string, string>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${broker.url}/appliance/enroll`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(fields).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}
async function codes(fields: Record<string, string>): Promise<Codes> {
  const r = await enroll(fields);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  const c = r.body as unknown as Codes;
  seen.push(c.device_code, c.user_code);
  return c;
}
async function poll(deviceCode: string): Promise<{ status: number; body: Record<string, string> }> {
  const res = await fetch(`${broker.url}/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: DEVICE_GRANT, device_code: deviceCode }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}
const pending = (r: { status: number; body: Record<string, string> }) => {
  expect(r.status).toBe(400);
  expect(['authorization_pending', 'slow_down']).toContain(r.body.error);
};

/** The admin's browser from the code to the confirmation page (Microsoft's consent given by `user`). */
async function toConfirmation(c: Codes, user: string) {
  const browser = new ConsentBrowser(broker.url);
  const landing = await browser.open(c.verification_uri_complete);
  const atMicrosoft = await browser.open(`http://localhost:7071/enroll/go?user_code=${c.user_code}`);
  const page = await browser.submit(atMicrosoft, { user, decision: 'approve' });
  return { browser, landing, page };
}

beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
  tenant = await consentedTenant(broker.url, staff, 'Enrolling Ltd', ['exchange-imap', 'exchange-smtp']);
  admin = `admin@${tenant.domain}`;
}, 60_000);
afterAll(async () => {
  await broker?.close();
});

describe('a PBX that enrolls itself', () => {
  it('shows a code; the admin consents, signs in and confirms; the device gets its own secret once, then tokens', async () => {
    const c = await codes({ scope: 'exchange-imap', customer_ref: 'SITE-ENROLL-1' });
    expect(c.device_code).toMatch(/^cbe_[A-Za-z0-9_-]{43}$/);
    expect(c.user_code).toMatch(/^[B-Z]{4}-[B-Z]{4}$/);
    expect(c).toMatchObject({
      verification_uri: 'http://localhost:7071/enroll',
      expires_in: 900,
      interval: 5,
    });
    pending(await poll(c.device_code));

    const { browser, landing, page } = await toConfirmation(c, admin);
    expect(landing.status).toBe(200);
    expect(landing.body).toContain(c.user_code);
    expect(landing.body).toContain('SITE-ENROLL-1');
    expect(landing.body).toContain('IMAP.AccessAsApp');
    expect(page.status, page.body.slice(0, 400)).toBe(200);
    expect(page.body).toContain('Connect this appliance?');
    expect(page.body).toContain('What it will be allowed to use');
    expect(page.body).toContain('SITE-ENROLL-1');
    // Not yet confirmed: nothing for the device.
    pending(await poll(c.device_code));

    expect((await browser.submit(page, {})).status).toBe(200);
    const got = await poll(c.device_code);
    expect(got.status, JSON.stringify(got.body)).toBe(200);
    expect(got.body).toMatchObject({
      tenant_id: tenant.tenantId,
      token_endpoint_auth_method: 'client_secret_basic',
      token_endpoint: 'http://localhost:7071/oauth2/token',
      profiles: ['exchange-imap'],
    });
    expect(got.body.client_secret).toMatch(/^cbs_/);
    seen.push(got.body.client_secret!);
    // Once only.
    expect(await poll(c.device_code)).toMatchObject({ status: 400, body: { error: 'invalid_grant' } });

    const token = await fetch(`${broker.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${got.body.client_id}:${got.body.client_secret}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'https://outlook.office365.com/.default',
      }).toString(),
    });
    expect(token.status).toBe(200);
    expect(((await token.json()) as { access_token: string }).access_token).toMatch(/^eyJ/);

    // Support sees it, bound, with where it came from; every step is audited.
    const appliance = await fetch(`${broker.url}/api/appliances/${got.body.client_id}`, {
      headers: { authorization: `Bearer ${staff}` },
    });
    expect(await appliance.json()).toMatchObject({
      tenantId: tenant.tenantId,
      customerRef: 'SITE-ENROLL-1',
      createdBy: expect.stringContaining('enrollment'),
    });
    const audit = await fetch(`${broker.url}/api/audit?tenantId=${tenant.tenantId}`, {
      headers: { authorization: `Bearer ${staff}` },
    });
    const actions = ((await audit.json()) as { items: { action: string }[] }).items.map((e) => e.action);
    expect(actions).toEqual(
      expect.arrayContaining(['appliance.confirmed', 'appliance.bound', 'enrollment.delivered']),
    );
  });

  it('with its public key: registered for private_key_jwt, no secret at all, and its assertion gets a token', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwks = JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'pbx-1', alg: 'ES256' }] });
    const c = await codes({ scope: 'exchange-smtp', jwks });
    const { browser, page } = await toConfirmation(c, admin);
    expect((await browser.submit(page, {})).status).toBe(200);
    const got = await poll(c.device_code);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      token_endpoint_auth_method: 'private_key_jwt',
      tenant_id: tenant.tenantId,
    });
    expect(got.body.client_secret).toBeUndefined();
    const assertion = await new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'ES256', kid: 'pbx-1' })
      .setIssuer(got.body.client_id!)
      .setSubject(got.body.client_id!)
      .setAudience('http://localhost:7071/oauth2/token')
      .setIssuedAt()
      .setExpirationTime('4m')
      .sign(privateKey);
    const token = await fetch(`${broker.url}/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        scope: 'https://outlook.office365.com/.default',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: assertion,
      }).toString(),
    });
    expect(token.status).toBe(200);
  });

  it('refuses bad requests before storing anything: unknown profile, a credential, bad jwks', async () => {
    expect(await enroll({ scope: 'fax' })).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    expect(await enroll({})).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    expect(await enroll({ scope: 'exchange-imap', client_secret: 'x' })).toMatchObject({
      status: 400,
      body: { error: 'invalid_request' },
    });
    expect(await enroll({ scope: 'exchange-imap', jwks: '{"keys":[{"kty":"oct","k":"AA"}]}' })).toMatchObject(
      {
        status: 400,
        body: { error: 'invalid_request' },
      },
    );
    expect(await poll('cbe_' + 'A'.repeat(43))).toMatchObject({
      status: 400,
      body: { error: 'bad_verification_code' },
    });
  });

  it('an unknown code, a non-admin, and a tenant the vendor has not onboarded are refused; the device stays pending', async () => {
    const browser = new ConsentBrowser(broker.url);
    expect((await browser.open('http://localhost:7071/enroll?user_code=BBBB-BBBB')).status).toBe(404);
    expect((await browser.open('http://localhost:7071/enroll')).body).toContain('Enter the code');

    const c = await codes({ scope: 'exchange-imap' });
    const clerk = `clerk@${tenant.domain}`;
    await control('POST', `/_sim/tenants/${tenant.tenantId}/users`, { userPrincipalName: clerk });
    const byClerk = await toConfirmation(c, clerk);
    expect(byClerk.page.status).toBeGreaterThanOrEqual(400);
    pending(await poll(c.device_code));

    const stranger = await tenantWithAdmin('Not Onboarded Corp');
    const byStranger = await toConfirmation(c, stranger.admin);
    expect(byStranger.page.status).toBe(403);
    expect(byStranger.page.body).toContain('cannot enroll itself here');
    const record = await fetch(`${broker.url}/api/tenants/${stranger.id}`, {
      headers: { authorization: `Bearer ${staff}` },
    });
    expect(record.status).toBe(404);
    pending(await poll(c.device_code));

    // A third sign-in start is the last; the fourth is refused and the code is dead.
    await toConfirmation(c, clerk);
    const fourth = await new ConsentBrowser(broker.url).open(
      `http://localhost:7071/enroll/go?user_code=${c.user_code}`,
    );
    expect(fourth.status).toBe(410);
  });

  it('keeps no code or secret in clear in its tables', async () => {
    const b = await broker.instance();
    const rows: unknown[] = [];
    for (const t of ['enrollments', 'appliances', 'onboardings', 'audit'])
      for (const partitionKey of t === 'enrollments' ? ['enrollment', 'device', 'usercode'] : [undefined]) {
        const page = await b.tables.table(t).query({ ...(partitionKey ? { partitionKey } : {}), top: 1000 });
        rows.push(...page.rows);
      }
    const text = JSON.stringify(rows);
    expect(seen.length).toBeGreaterThan(4);
    for (const secret of seen) expect(text).not.toContain(secret);
  });

  it('limits enrollments per address (429 with Retry-After)', async () => {
    let last = 200;
    let retryAfter: string | null = null;
    for (let i = 0; i < 12 && last === 200; i++) {
      const res = await fetch(`${broker.url}/appliance/enroll`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'scope=exchange-imap',
      });
      last = res.status;
      retryAfter = res.headers.get('retry-after');
    }
    expect(last).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
  });
});
