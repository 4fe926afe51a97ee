/**
 * S2 (docs/security.md): the flow itself refuses a consent completed by a guest of the tenant, or by an
 * account of another organization, even one holding Global Administrator there: only an administrator who is
 * a member of the tenant the consent is for binds it. The adapter's detection of a guest (`isGuest`) is tested
 * in test/adapters/entra-sign-in.test.ts; here the broker answers 403 "This account does not belong to the
 * organization", records no tenant, leaves the onboarding open, and audits the refusal.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentBrowser, type Visit } from '../helpers/consent-browser.js';
import { consentHomeApp, control, newTenant } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';

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

async function api<T = Record<string, unknown>>(path: string, init: RequestInit = {}) {
  const res = await fetch(`${broker.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json', ...init.headers },
  });
  return { status: res.status, body: (await res.json()) as T };
}

/**
 * Tenant V (which consented to the home app earlier), and a partner organization H whose user is a guest
 * of V holding Global Administrator there.
 */
async function tenants(name: string) {
  const slug = name.toLowerCase().replace(/[^a-z]/g, '');
  const v = await newTenant(`${name} Victim`, [`${slug}victim.example`]);
  const h = await newTenant(`${name} Partner`, [`${slug}partner.example`]);
  const partner = `partner@${slug}partner.example`;
  await control('POST', `/_sim/tenants/${h}/users`, {
    userPrincipalName: partner,
    directoryRoles: [GLOBAL_ADMIN],
  });
  await control('POST', `/_sim/tenants/${v}/users`, {
    userPrincipalName: partner,
    directoryRoles: [GLOBAL_ADMIN],
    guestFromTenant: h,
  });
  await consentHomeApp(v);
  return { v, h, partner };
}

/** An onboarding whose consent callback names V, in `browser`: it lands on V's interactive sign-in page. */
async function toSignInAt(v: string, browser: ConsentBrowser, customerRef: string) {
  const { body: o } = await api<{ id: string; consentUrl: string }>('/api/onboardings', {
    method: 'POST',
    body: JSON.stringify({ customerRef, profiles: ['exchange-imap'] }),
  });
  await browser.open(`${o.consentUrl}/go`);
  const state = new URL(browser.visited.find((u) => u.includes('adminconsent'))!).searchParams.get('state')!;
  const page = await browser.open(
    `http://localhost:7071/consent/callback?admin_consent=True&tenant=${v}&state=${state}`,
  );
  expect(page.status).toBe(200);
  return { onboarding: o, page };
}

async function refusedAndAudited(page: Visit, v: string, onboardingId: string, reason: string) {
  expect(page.status).toBe(403);
  expect(page.body).toContain('This account does not belong to the organization');
  expect((await api(`/api/tenants/${v}`)).status).toBe(404);
  expect((await api(`/api/onboardings/${onboardingId}`)).body).toMatchObject({
    status: 'pending',
    tenantId: null,
  });
  const audit = await api<{ items: { action: string; details: { reason?: string } }[] }>(
    `/api/audit?tenantId=${v}`,
  );
  expect(audit.body.items.map((e) => [e.action, e.details.reason])).toContainEqual([
    'consent.rejected',
    reason,
  ]);
  expect(audit.body.items.map((e) => e.action)).not.toContain('consent.granted');
}

describe('a consent completed by someone who is not a member of the tenant (S2)', () => {
  it('refuses a guest of the tenant holding Global Administrator there (403), records nothing, audits it', async () => {
    const { v, partner } = await tenants('Guest Admin');
    const browser = new ConsentBrowser(broker.url);
    const { onboarding, page } = await toSignInAt(v, browser, 'GUEST-1');
    const result = await browser.submit(page, { login: partner });
    await refusedAndAudited(result, v, onboarding.id, 'guest');
  });

  it("refuses Microsoft's answer for an account of another organization (AADSTS50020) the same way", async () => {
    const { v } = await tenants('Foreign Account');
    const browser = new ConsentBrowser(broker.url);
    const { onboarding } = await toSignInAt(v, browser, 'FOREIGN-1');
    // The sign-in request's state, as Entra would send it back with its error (E-ERR 50020 UserUnauthorized).
    const authorize = browser.visited.filter((u) => u.includes('/oauth2/v2.0/authorize')).at(-1)!;
    const state = new URL(authorize).searchParams.get('state')!;
    const error = new URLSearchParams({
      error: 'invalid_request',
      error_description: `AADSTS50020: User account 'someone@elsewhere.example' from identity provider 'https://sts.windows.net/${v}/' does not exist in tenant 'Foreign Account Victim'.`,
      state,
    });
    const result = await browser.open(`http://localhost:7071/consent/signin?${error.toString()}`);
    await refusedAndAudited(result, v, onboarding.id, 'AADSTS50020');
  });
});
