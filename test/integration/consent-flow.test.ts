/**
 * The customer consent flow end to end over real sockets (SPEC.md "Customers"): the broker's pages and
 * redirects, the Entra simulator's consent and sign-in pages, the proof with app-only tokens, the records.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createDataTablesStorage } from '../../src/adapters/tables/data-tables.js';
import { createAuditLog } from '../../src/audit/audit-log.js';
import { createBroker } from '../../src/broker.js';
import { loadConfig } from '../../src/config.js';
import { newConsentCode } from '../../src/consent/onboardings.js';
import { reverifyPendingConsents } from '../../src/consent/verification.js';
import { createOnboardingStore } from '../../src/consent/onboarding-store.js';
import { ConsentBrowser, type Visit } from '../helpers/consent-browser.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { sandboxSettings, startTestBroker, type TestBroker } from './broker-host.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
let broker: TestBroker;
let staff: string;

beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
});
afterAll(async () => {
  await broker?.close();
});

async function api<T>(path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(`${broker.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json', ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function onboarding(customerRef: string, profiles?: string[]) {
  const { status, body } = await api<{ id: string; code: string; consentUrl: string }>('/api/onboardings', {
    method: 'POST',
    body: JSON.stringify({ customerRef, ...(profiles ? { profiles } : {}) }),
  });
  expect(status).toBe(201);
  return body;
}

/** A customer tenant with a Global Administrator, a member without a role, and a domain. */
async function customer(name: string) {
  const slug = name.toLowerCase().replace(/[^a-z]/g, '');
  const id = await newTenant(name, [`${slug}.example`]);
  await control('POST', `/_sim/tenants/${id}/users`, {
    userPrincipalName: `admin@${slug}.example`,
    directoryRoles: [GLOBAL_ADMIN],
  });
  await control('POST', `/_sim/tenants/${id}/users`, { userPrincipalName: `clerk@${slug}.example` });
  return { id, admin: `admin@${slug}.example`, clerk: `clerk@${slug}.example` };
}

/** Landing page → Continue → the simulated Microsoft consent page. */
async function toMicrosoft(browser: ConsentBrowser, consentUrl: string): Promise<Visit> {
  const landing = await browser.open(consentUrl);
  expect(landing.status).toBe(200);
  const consentPage = await browser.open(`${consentUrl}/go`);
  expect(consentPage.status).toBe(200);
  expect(consentPage.body).toContain('Permissions requested');
  return consentPage;
}

/** `GET /connect/{code}/go` without following it: the state it issued and the cookie that binds it. */
async function go(code: string): Promise<{ state: string; cookie: string }> {
  const res = await fetch(`${broker.url}/connect/${code}/go`, { redirect: 'manual' });
  expect(res.status).toBe(302);
  return {
    state: new URL(res.headers.get('location')!).searchParams.get('state')!,
    cookie: res.headers.get('set-cookie')!.split(';')[0]!,
  };
}

const tenantView = (id: string) => api<Record<string, unknown>>(`/api/tenants/${id}`);
const onboardingView = (id: string) => api<Record<string, unknown>>(`/api/onboardings/${id}`);

describe('customer consent', () => {
  it('binds the tenant when its Global Administrator consents, proves the grant and records it', async () => {
    const c = await customer('Happy Path');
    const o = await onboarding('HAPPY-1');
    const browser = new ConsentBrowser(broker.url);
    const landing = await browser.open(o.consentUrl);
    expect(landing.body).toContain('HAPPY-1');
    const result = await browser.submit(await toMicrosoft(browser, o.consentUrl), {
      user: c.admin,
      decision: 'approve',
    });
    expect(result.status, result.body.slice(0, 500)).toBe(200);
    expect(result.url).toMatch(/\/consent\/signin\?/);
    // Silent sign-in: the admin was not asked to sign in again after consenting.
    expect(browser.visited.filter((u) => u.includes('/oauth2/v2.0/authorize'))).toHaveLength(1);
    expect(browser.visited.find((u) => u.includes('/oauth2/v2.0/authorize'))).toContain('prompt=none');

    const tenant = await tenantView(c.id);
    expect(tenant.status).toBe(200);
    expect(tenant.body).toMatchObject({
      tenantId: c.id,
      status: 'active',
      displayName: 'Happy Path',
      verifiedDomains: expect.arrayContaining(['happypath.example']),
      customerRefs: ['HAPPY-1'],
      missingRoles: {},
      consentedBy: { objectId: expect.any(String), displayName: expect.any(String) },
      servicePrincipalId: expect.any(String),
    });
    expect(
      (tenant.body.grantedRoles as Record<string, string[]>)['https://outlook.office365.com/.default'],
    ).toContain('IMAP.AccessAsApp');
    expect((await onboardingView(o.id)).body).toMatchObject({
      status: 'consented',
      tenantId: c.id,
      missingRoles: {},
    });

    // The link is used now: 410, and the callback cannot be replayed.
    expect((await browser.open(o.consentUrl)).status).toBe(410);
    const callback = browser.visited.find((u) => u.includes('/consent/callback?'))!;
    expect((await browser.open(callback)).status).toBe(409);
    // In another browser it is refused before it is even looked at as a replay.
    expect((await new ConsentBrowser(broker.url).open(callback)).status).toBe(400);
  });

  it("fails the onboarding with Microsoft's code when the admin declines (AADSTS65004)", async () => {
    const c = await customer('Declined Ltd');
    const o = await onboarding('DECLINE-1');
    const browser = new ConsentBrowser(broker.url);
    const page = await browser.submit(await toMicrosoft(browser, o.consentUrl), {
      user: c.admin,
      decision: 'deny',
    });
    expect(page.status).toBe(403);
    expect(page.body).toContain('AADSTS65004');
    expect((await onboardingView(o.id)).body).toMatchObject({
      status: 'failed',
      error: { code: 'AADSTS65004' },
    });
    expect((await tenantView(c.id)).status).toBe(404);
  });

  it('refuses a forged callback naming a tenant that consented earlier, completed by a non-admin; audits it', async () => {
    const victim = await customer('Victim Corp');
    await control('POST', `/_sim/tenants/${victim.id}/consents`, {
      appId: inject('sandbox').homeApp.clientId,
    });
    const o = await onboarding('ATTACKER-1');
    const browser = new ConsentBrowser(broker.url);
    await browser.open(o.consentUrl);
    // Instead of consenting, the attacker takes the state and types the victim's tenant into the callback.
    await browser.open(`${o.consentUrl}/go`);
    const state = new URL(browser.visited.find((u) => u.includes('adminconsent'))!).searchParams.get(
      'state',
    )!;
    const signInPage = await browser.open(
      `http://localhost:7071/consent/callback?admin_consent=True&tenant=${victim.id}&state=${state}`,
    );
    // No session at Microsoft: the silent sign-in fails and the interactive sign-in page is shown.
    expect(signInPage.status).toBe(200);
    const result = await browser.submit(signInPage, { login: victim.clerk });
    expect(result.status).toBe(403);
    expect((await tenantView(victim.id)).status).toBe(404);
    expect((await onboardingView(o.id)).body).toMatchObject({ status: 'pending', tenantId: null });
    const audit = await api<{
      items: { action: string; details: { reason?: string }; actor: { kind: string } }[];
    }>(`/api/audit?tenantId=${victim.id}`);
    expect(audit.body.items.map((e) => [e.action, e.details.reason, e.actor.kind])).toContainEqual([
      'consent.rejected',
      'not_an_admin',
      'admin',
    ]);
  });

  it('keeps a consent Entra cannot show yet as pending_verification and proves it later, without asking the admin again', async () => {
    const c = await customer('Slow Replication');
    await control('PUT', `/_sim/tenants/${c.id}/consent-replication-delay`, { delayMs: 2_000 });
    const o = await onboarding('SLOW-1', ['exchange-imap']);
    const browser = new ConsentBrowser(broker.url);
    const result = await browser.submit(await toMicrosoft(browser, o.consentUrl), {
      user: c.admin,
      decision: 'approve',
    });
    expect(result.status).toBe(200);
    expect(result.body).not.toMatch(/wait 10 minutes|try again/i);
    expect((await tenantView(c.id)).body).toMatchObject({
      status: 'pending_verification',
      verification: { attempts: 0 },
    });
    expect((await onboardingView(o.id)).body).toMatchObject({
      status: 'pending',
      progress: 'pending_verification',
      tenantId: c.id,
    });

    await new Promise((r) => setTimeout(r, 2_100));
    const b = await createBroker(loadConfig(sandboxSettings()));
    const later = new Date(Date.now() + 60_000);
    expect(await reverifyPendingConsents({ ...b, now: () => later })).toBeGreaterThanOrEqual(1);
    expect((await tenantView(c.id)).body).toMatchObject({ status: 'active', verification: null });
    expect((await onboardingView(o.id)).body).toMatchObject({ status: 'consented', progress: null });
  });

  it('keeps the tenant as pending_verification when Entra ID is down right after the sign-in, and proves it later', async () => {
    const c = await customer('Outage Right After');
    const o = await onboarding('OUTAGE-1', ['exchange-imap']);
    // The sign-in's code redemption goes through; the proof's client-credentials request meets a 503.
    await control('POST', '/_sim/faults', {
      target: 'entra',
      kind: 'status',
      status: 503,
      pathContains: `/${c.id}/oauth2/v2.0/token`,
      bodyContains: 'grant_type=client_credentials',
      count: 1,
    });
    const browser = new ConsentBrowser(broker.url);
    const result = await browser.submit(await toMicrosoft(browser, o.consentUrl), {
      user: c.admin,
      decision: 'approve',
    });
    expect(result.status).toBe(200);
    expect((await tenantView(c.id)).body).toMatchObject({ status: 'pending_verification' });
    const b = await createBroker(loadConfig(sandboxSettings()));
    await reverifyPendingConsents({ ...b, now: () => new Date(Date.now() + 120_000) });
    expect((await tenantView(c.id)).body).toMatchObject({ status: 'active' });
  });

  it('gives exactly one tenant record and one consent audit entry for ten concurrent callbacks with one state', async () => {
    const c = await customer('Racing Inc');
    const o = await onboarding('RACE-1', ['exchange-imap']);
    const browser = new ConsentBrowser(broker.url);
    const consentPage = await toMicrosoft(browser, o.consentUrl);
    // Approve, but stop at the redirect to the broker's callback.
    const form = new URLSearchParams(
      [...consentPage.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map(
        ([, k, v]) => [k!, v!.replace(/&amp;/g, '&')] as [string, string],
      ),
    );
    form.set('user', c.admin);
    form.set('decision', 'approve');
    const action = new URL(
      /<form method="post" action="([^"]+)"/.exec(consentPage.body)![1]!,
      consentPage.url,
    );
    const approved = await fetch(action, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    });
    const callback = approved.headers.get('location')!.replace('http://localhost:7071', broker.url);
    const cookie = approved.headers.get('set-cookie')!.split(';')[0]!;
    const ours = browser.cookieHeader(broker.url);
    const answers = await Promise.all(
      Array.from({ length: 10 }, () => fetch(callback, { redirect: 'manual', headers: { cookie: ours } })),
    );
    expect(answers.map((r) => r.status).sort()).toEqual([302, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    const signIn = answers.find((r) => r.status === 302)!.headers.get('location')!;
    const code = await fetch(signIn, { redirect: 'manual', headers: { cookie } });
    const signinCallback = code.headers.get('location')!.replace('http://localhost:7071', broker.url);
    const finals = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(signinCallback, { redirect: 'manual', headers: { cookie: ours } }),
      ),
    );
    expect(finals.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    const audit = createAuditLog(
      createDataTablesStorage({
        kind: 'connectionString',
        connectionString: inject('tablesConnectionString'),
      }),
    );
    const entries = (await audit.list({ tenantId: c.id, top: 100 })).items.filter(
      (e) => e.action === 'consent.granted',
    );
    expect(entries).toHaveLength(1);
    expect(
      (await api<{ items: { tenantId: string }[] }>('/api/tenants?top=100')).body.items.filter(
        (t) => t.tenantId === c.id,
      ),
    ).toHaveLength(1);
  });

  it.each([
    ['an unknown code', '/connect/AAAAAAAAAAAAAAAAAAAAAA', 404],
    ['a malformed code', '/connect/%3Cscript%3E', 404],
    [
      'a callback without state',
      '/consent/callback?admin_consent=True&tenant=c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90',
      400,
    ],
    [
      'a tampered state',
      `/consent/callback?admin_consent=True&tenant=c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90&state=${'A'.repeat(43)}`,
      400,
    ],
    ['a duplicated state', `/consent/callback?state=${'A'.repeat(43)}&state=${'B'.repeat(43)}`, 400],
    ['an oversized query', `/consent/callback?state=${'A'.repeat(5_000)}`, 400],
    ['a sign-in without state', '/consent/signin?code=abc', 400],
  ])('answers %s with a clear page, recording nothing', async (_, path, status) => {
    const res = await fetch(`${broker.url}${path}`, { redirect: 'manual' });
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    const body = await res.text();
    expect(body).not.toMatch(/<script|\n\s+at /);
  });

  it('answers an expired consent link with 410 and records nothing', async () => {
    const onboardings = createOnboardingStore(
      createDataTablesStorage({
        kind: 'connectionString',
        connectionString: inject('tablesConnectionString'),
      }),
    );
    const code = newConsentCode();
    const id = randomUUID();
    await onboardings.create(
      {
        id,
        customerRef: 'EXPIRED-1',
        applianceId: null,
        profiles: ['exchange-imap'],
        status: 'pending',
        createdAt: new Date(Date.now() - 8 * 86_400_000).toISOString(),
        expiresAt: new Date(Date.now() - 86_400_000).toISOString(),
        createdBy: 'test',
        tenantId: null,
        progress: null,
        grantedRoles: null,
        missingRoles: null,
        error: null,
        confirmedBy: null,
      },
      code,
    );
    expect((await fetch(`${broker.url}/connect/${code}`)).status).toBe(410);
    expect((await fetch(`${broker.url}/connect/${code}/go`, { redirect: 'manual' })).status).toBe(410);
    expect((await onboardingView(id)).body).toMatchObject({ status: 'expired' });
  });

  it('refuses a non-GUID tenant with a valid state (400)', async () => {
    const o = await onboarding('BADTENANT-1');
    const { state, cookie } = await go(o.code);
    const res = await fetch(
      `${broker.url}/consent/callback?admin_consent=True&tenant=contoso.example&state=${state}`,
      { redirect: 'manual', headers: { cookie } },
    );
    expect(res.status).toBe(400);
    expect((await onboardingView(o.id)).body).toMatchObject({ status: 'pending' });
  });

  it('refuses a callback naming a tenant id Microsoft does not know (AADSTS90002) with a 400 page, not a 500', async () => {
    const o = await onboarding('BADTENANT-2');
    const { state, cookie } = await go(o.code);
    const res = await fetch(
      `${broker.url}/consent/callback?admin_consent=True&tenant=0b1c2d3e-4f50-4617-8a9b-c0d1e2f3a4b5&state=${state}`,
      { redirect: 'manual', headers: { cookie } },
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('AADSTS90002');
    expect((await onboardingView(o.id)).body).toMatchObject({ status: 'pending' });
  });

  it('refuses a tenant Microsoft does not know with the 400 page where MSAL knows the endpoints itself, as in production', async () => {
    // On login.microsoftonline.com MSAL takes the authority's endpoints from its built-in table and asks the
    // network nothing (msal-common AuthorityMetadata.mjs EndpointMetadata): the simulator's host gets the same.
    const { Authority } = await import('@azure/msal-common/node');
    type Lookup = (this: { hostnameAndPort: string }) => unknown;
    const proto = Authority.prototype as unknown as { getEndpointMetadataFromHardcodedValues: Lookup };
    const original = proto.getEndpointMetadataFromHardcodedValues;
    const host = new URL(inject('entraUrl')).host;
    proto.getEndpointMetadataFromHardcodedValues = function (this: { hostnameAndPort: string }) {
      if (this.hostnameAndPort !== host) return original.call(this);
      return {
        token_endpoint: `https://${host}/{tenantid}/oauth2/v2.0/token`,
        jwks_uri: `https://${host}/{tenantid}/discovery/v2.0/keys`,
        issuer: `https://${host}/{tenantid}/v2.0`,
        authorization_endpoint: `https://${host}/{tenantid}/oauth2/v2.0/authorize`,
        end_session_endpoint: `https://${host}/{tenantid}/oauth2/v2.0/logout`,
      };
    };
    try {
      const o = await onboarding('BADTENANT-3');
      const { state, cookie } = await go(o.code);
      const res = await fetch(
        `${broker.url}/consent/callback?admin_consent=True&tenant=${randomUUID()}&state=${state}`,
        { redirect: 'manual', headers: { cookie } },
      );
      expect(res.headers.get('location')).toBeNull();
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('AADSTS90002');
      expect((await onboardingView(o.id)).body).toMatchObject({ status: 'pending' });
    } finally {
      proto.getEndpointMetadataFromHardcodedValues = original;
    }
  });
});
