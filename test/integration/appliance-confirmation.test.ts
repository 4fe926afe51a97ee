/**
 * Consent login CSRF (docs/security.md S12), the second half: an onboarding tied to an appliance binds it to
 * the tenant only after the admin who consented, in the same browser, has seen a page naming the appliance
 * and the customer reference it was registered with and confirmed it (a form post whose CSRF token is a
 * browser-bound state). Until then the appliance learns nothing of the tenant and gets no token.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createBroker } from '../../src/broker.js';
import { reverifyPendingConsents } from '../../src/consent/verification.js';
import { ConsentBrowser, type Visit } from '../helpers/consent-browser.js';
import { basicAuth } from '../helpers/appliances.js';
import { control, tenantWithAdmin } from '../helpers/sim-control.js';
import { sandboxSettings, startTestBroker, type TestBroker } from './broker-host.js';

const SCOPE = 'https://outlook.office365.com/.default';
let broker: TestBroker;
let staff: string;

beforeAll(async () => {
  broker = await startTestBroker();
  staff = await broker.staffToken();
});
afterAll(async () => {
  await broker?.close();
});

type Credential = { clientId: string; clientSecret: string };
const basic = basicAuth;

async function staffApi<T = Record<string, unknown>>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${broker.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json', ...init.headers },
  });
  return (await res.json()) as T;
}

const customer = tenantWithAdmin;

async function appliance(customerRef: string): Promise<Credential> {
  return staffApi<Credential>('/api/appliances', {
    method: 'POST',
    body: JSON.stringify({ customerRef, profiles: ['exchange-imap'], auth: { method: 'client_secret' } }),
  });
}

/** The appliance presses "Authorize"; the admin consents in `browser` and lands on the confirmation page. */
async function consentThroughAppliance(pbx: Credential, admin: string, browser: ConsentBrowser) {
  const created = await fetch(`${broker.url}/appliance/onboardings`, {
    method: 'POST',
    headers: { authorization: basic(pbx) },
  });
  const onboarding = (await created.json()) as { id: string; consentUrl: string };
  const page = await browser.submit(await browser.open(`${onboarding.consentUrl}/go`), {
    user: admin,
    decision: 'approve',
  });
  return { onboarding, page };
}

const poll = async (pbx: Credential, id: string) =>
  (await (
    await fetch(`${broker.url}/appliance/onboardings/${id}`, { headers: { authorization: basic(pbx) } })
  ).json()) as Record<string, unknown>;

async function tokenError(pbx: Credential): Promise<string | undefined> {
  const res = await fetch(`${broker.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(pbx), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString(),
  });
  return res.ok ? undefined : ((await res.json()) as { error: string }).error;
}

const stateOf = (page: Visit) =>
  /<input type="hidden" name="state" value="([A-Za-z0-9_-]{43})"/.exec(page.body)?.[1];

/** Posts the confirmation form as some browser would: its cookie, its Origin. */
function post(state: string, headers: Record<string, string>): Promise<Response> {
  return fetch(`${broker.url}/consent/confirm`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ state }).toString(),
  });
}

describe('an appliance is bound only after its admin confirms it', () => {
  it('shows a page naming the appliance and its customer reference, and binds nothing until it is posted', async () => {
    const c = await customer('Confirm Works');
    const pbx = await appliance('SITE-CONFIRM-1');
    const browser = new ConsentBrowser(broker.url);
    const { onboarding, page } = await consentThroughAppliance(pbx, c.admin, browser);
    expect(page.status).toBe(200);
    expect(page.body).toContain('Connect this appliance?');
    expect(page.body).toContain('SITE-CONFIRM-1');
    expect(page.body).toContain(pbx.clientId);
    expect(page.body).toContain('<form method="post" action="/consent/confirm">');
    expect(stateOf(page)).toBeDefined();

    // The consent itself is recorded; the appliance sees nothing of the tenant and gets no token.
    expect(await staffApi(`/api/tenants/${c.id}`)).toMatchObject({ status: 'active' });
    expect(await staffApi(`/api/onboardings/${onboarding.id}`)).toMatchObject({
      status: 'pending',
      progress: 'awaiting_confirmation',
      tenantId: c.id,
      confirmedBy: null,
    });
    expect(await poll(pbx, onboarding.id)).toMatchObject({
      status: 'pending',
      progress: 'awaiting_confirmation',
      tenantId: null,
      grantedRoles: null,
    });
    expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: null });
    expect(await tokenError(pbx)).toBe('invalid_grant');

    const done = await browser.submit(page, {});
    expect(done.status).toBe(200);
    expect(done.body).toContain('Your organization is connected');
    expect(await poll(pbx, onboarding.id)).toMatchObject({
      status: 'consented',
      tenantId: c.id,
      grantedRoles: { [SCOPE]: expect.arrayContaining(['IMAP.AccessAsApp']) },
    });
    expect(await staffApi(`/api/onboardings/${onboarding.id}`)).toMatchObject({
      confirmedBy: { objectId: expect.any(String), displayName: expect.any(String) },
    });
    expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: c.id });
    expect(await tokenError(pbx)).toBeUndefined();
    const audit = await staffApi<{ items: { action: string; actor: { kind: string } }[] }>(
      `/api/audit?tenantId=${c.id}`,
    );
    expect(audit.items.map((e) => [e.action, e.actor.kind])).toEqual(
      expect.arrayContaining([
        ['appliance.confirmed', 'admin'],
        ['appliance.bound', 'admin'],
      ]),
    );
  });

  it.each([
    ['no cookie', () => ({})],
    ['another browser’s cookie', (_: string, other: string) => ({ cookie: other })],
    [
      'its own cookie but a foreign Origin',
      (own: string) => ({ cookie: own, origin: 'https://evil.example' }),
    ],
  ])('refuses the confirmation with %s (400) and binds nothing', async (_, headersOf) => {
    const c = await customer(`Confirm ${_}`);
    const pbx = await appliance(`SITE-REFUSED-${_.length}`);
    const browser = new ConsentBrowser(broker.url);
    const { onboarding, page } = await consentThroughAppliance(pbx, c.admin, browser);
    const otherCookie = `consent-browser=${'B'.repeat(43)}`;
    const res = await post(stateOf(page)!, headersOf(browser.cookieHeader(broker.url), otherCookie));
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Start again from your link');
    expect(await poll(pbx, onboarding.id)).toMatchObject({ status: 'pending', tenantId: null });
    expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: null });
    // The refusal used nothing up: the admin's own browser can still confirm.
    expect((await browser.submit(page, {})).status).toBe(200);
    expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: c.id });
  });

  it('counts a confirmation once: a replayed post is refused (409)', async () => {
    const c = await customer('Confirm Replay');
    const pbx = await appliance('SITE-REPLAY');
    const browser = new ConsentBrowser(broker.url);
    const { page } = await consentThroughAppliance(pbx, c.admin, browser);
    // As Chromium posts it from a no-referrer page (test/browser/pages.test.ts): `Origin: null`.
    const cookie = browser.cookieHeader(broker.url);
    expect((await post(stateOf(page)!, { cookie, origin: 'null' })).status).toBe(200);
    const again = await post(stateOf(page)!, { cookie });
    expect(again.status).toBe(409);
  });

  it('refuses a post without a state, or not a form, with a clear 400 page', async () => {
    for (const init of [
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' },
      { headers: { 'content-type': 'application/json' }, body: '{"state":"x"}' },
      { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'state=a&state=b' },
    ]) {
      const res = await fetch(`${broker.url}/consent/confirm`, { method: 'POST', ...init });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    }
  });

  it('asks the same for an onboarding tied to an appliance that support started', async () => {
    const c = await customer('Confirm Support');
    const pbx = await appliance('SITE-SUPPORT');
    const { id, consentUrl } = await staffApi<{ id: string; consentUrl: string }>('/api/onboardings', {
      method: 'POST',
      body: JSON.stringify({
        customerRef: 'SITE-SUPPORT',
        applianceId: pbx.clientId,
        profiles: ['exchange-imap'],
      }),
    });
    const browser = new ConsentBrowser(broker.url);
    const page = await browser.submit(await browser.open(`${consentUrl}/go`), {
      user: c.admin,
      decision: 'approve',
    });
    expect(page.body).toContain(pbx.clientId);
    expect(await staffApi(`/api/onboardings/${id}`)).toMatchObject({ progress: 'awaiting_confirmation' });
    expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: null });
    expect((await browser.submit(page, {})).status).toBe(200);
    expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: c.id });
  });

  it('binds a confirmed appliance whose consent is still being proven once it is proven, and not before', async () => {
    const c = await customer('Confirm Slow');
    await control('PUT', `/_sim/tenants/${c.id}/consent-replication-delay`, { delayMs: 2_000 });
    const pbx = await appliance('SITE-SLOW');
    const browser = new ConsentBrowser(broker.url);
    const { onboarding, page } = await consentThroughAppliance(pbx, c.admin, browser);
    expect(page.body).toContain(pbx.clientId);
    expect(await staffApi(`/api/tenants/${c.id}`)).toMatchObject({ status: 'pending_verification' });

    // Proven in the background before the admin confirms: still not bound.
    await new Promise((r) => setTimeout(r, 2_100));
    const b = await createBroker(loadConfig(sandboxSettings()));
    await reverifyPendingConsents({ ...b, now: () => new Date(Date.now() + 60_000) });
    expect(await staffApi(`/api/tenants/${c.id}`)).toMatchObject({ status: 'active' });
    expect(await staffApi(`/api/onboardings/${onboarding.id}`)).toMatchObject({
      status: 'pending',
      progress: 'awaiting_confirmation',
    });
    expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: null });

    const done = await browser.submit(page, {});
    expect(done.body).toContain('Your organization is connected');
    expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: c.id });
  });

  it('confirmed while still being proven: binds when the background check proves the consent', async () => {
    const c = await customer('Confirm Then Prove');
    await control('PUT', `/_sim/tenants/${c.id}/consent-replication-delay`, { delayMs: 2_000 });
    const pbx = await appliance('SITE-THEN');
    const browser = new ConsentBrowser(broker.url);
    const { onboarding, page } = await consentThroughAppliance(pbx, c.admin, browser);
    const done = await browser.submit(page, {});
    expect(done.status).toBe(200);
    expect(done.body).toContain('Consent received');
    expect(await staffApi(`/api/onboardings/${onboarding.id}`)).toMatchObject({
      progress: 'pending_verification',
      confirmedBy: { objectId: expect.any(String) },
    });
    expect(await poll(pbx, onboarding.id)).toMatchObject({ tenantId: c.id, status: 'pending' });
    expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: null });

    await new Promise((r) => setTimeout(r, 2_100));
    const b = await createBroker(loadConfig(sandboxSettings()));
    await reverifyPendingConsents({ ...b, now: () => new Date(Date.now() + 60_000) });
    expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: c.id });
    expect(await poll(pbx, onboarding.id)).toMatchObject({ status: 'consented', tenantId: c.id });
  });
});
