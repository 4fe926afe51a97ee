/**
 * T3 (docs/security.md): an appliance already bound to a tenant is never moved to another by a consent (SPEC.md
 * "appliance": exactly one bound tenant; moving it takes support staff). Whichever way an onboarding names it,
 * support's `POST /api/onboardings` with `applianceId` or the appliance's own `POST /appliance/onboardings`, a
 * consent by another tenant's admin leaves it bound where it was, and the refusal is audited
 * (`appliance.bind_refused`).
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reverifyPendingConsents } from '../../src/consent/verification.js';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { basicAuth } from '../helpers/appliances.js';
import { tenantWithAdmin } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';

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

/** Consents through `consentUrl` as `admin` in a browser of their own; answers the page it ends on. */
async function consent(consentUrl: string, admin: string) {
  const browser = new ConsentBrowser(broker.url);
  return browser.submit(await browser.open(`${consentUrl}/go`), { user: admin, decision: 'approve' });
}

/** An appliance of tenant A, bound the usual way: its own onboarding, A's admin consents and confirms. */
async function boundAppliance(a: { id: string; admin: string }, customerRef: string): Promise<Credential> {
  const pbx = await staffApi<Credential>('/api/appliances', {
    method: 'POST',
    body: JSON.stringify({ customerRef, profiles: ['exchange-imap'], auth: { method: 'client_secret' } }),
  });
  const { consentUrl } = await ownOnboarding(pbx);
  const browser = new ConsentBrowser(broker.url);
  const page = await browser.submit(await browser.open(`${consentUrl}/go`), {
    user: a.admin,
    decision: 'approve',
  });
  expect(page.body).toContain(pbx.clientId);
  const done = await browser.submit(page, {});
  expect(done.status).toBe(200);
  // On a loaded machine the proof may miss Entra's deadline: the consent is then proven by the re-check.
  if (!done.body.includes('Your organization is connected')) await proveNow();
  expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: a.id });
  return pbx;
}

/** Runs the background re-check of consents still being proven now, as if their next check were due. */
async function proveNow(): Promise<void> {
  const b = await broker.instance();
  await reverifyPendingConsents({ ...b, now: () => new Date(Date.now() + 60_000) });
}

async function ownOnboarding(pbx: Credential): Promise<{ id: string; consentUrl: string }> {
  const res = await fetch(`${broker.url}/appliance/onboardings`, {
    method: 'POST',
    headers: { authorization: basic(pbx) },
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { id: string; consentUrl: string };
}

async function tokenTenant(pbx: Credential): Promise<string> {
  const res = await fetch(`${broker.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(pbx), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString(),
  });
  expect(res.status).toBe(200);
  const { access_token } = (await res.json()) as { access_token: string };
  return (JSON.parse(Buffer.from(access_token.split('.')[1]!, 'base64url').toString()) as { tid: string })
    .tid;
}

describe('a bound appliance is not re-bound by a new consent (T3)', () => {
  it.each([
    [
      "support's onboarding naming it (POST /api/onboardings with applianceId)",
      'Support',
      async (pbx: Credential, customerRef: string) =>
        staffApi<{ id: string; consentUrl: string }>('/api/onboardings', {
          method: 'POST',
          body: JSON.stringify({ customerRef, applianceId: pbx.clientId, profiles: ['exchange-imap'] }),
        }),
    ],
    [
      "the appliance's own onboarding (POST /appliance/onboardings)",
      'Own',
      (pbx: Credential) => ownOnboarding(pbx),
    ],
  ])(
    'stays bound to its tenant when another tenant’s admin consents through %s; audited',
    async (_, n, start) => {
      const a = await customer(`Rebind Home ${n}`);
      const b = await customer(`Rebind Other ${n}`);
      const pbx = await boundAppliance(a, `SITE-REBIND-${n}`);
      expect(await tokenTenant(pbx)).toBe(a.id);

      const onboarding = await start(pbx, `SITE-REBIND-${n}`);
      const page = await consent(onboarding.consentUrl, b.admin);
      expect(page.status).toBe(200);
      // No page offering B's admin to confirm this appliance: there is nothing to bind.
      expect(page.body).not.toContain(pbx.clientId);
      // Nor is it moved later, when a consent still being proven is proven in the background.
      await proveNow();

      expect(await staffApi(`/api/appliances/${pbx.clientId}`)).toMatchObject({ tenantId: a.id });
      expect(await tokenTenant(pbx)).toBe(a.id);
      // And polling the onboarding tells the appliance nothing of B.
      const poll = await fetch(`${broker.url}/appliance/onboardings/${onboarding.id}`, {
        headers: { authorization: basic(pbx) },
      });
      const seen = (await poll.json()) as Record<string, unknown>;
      expect(seen).toMatchObject({ tenantId: null, grantedRoles: null, missingRoles: null });
      expect(JSON.stringify(seen)).not.toContain(b.id);
      const audit = await staffApi<{
        items: { action: string; outcome: string; details: Record<string, unknown> }[];
      }>(`/api/audit?tenantId=${b.id}`);
      expect(audit.items.map((e) => e.action)).not.toContain('appliance.bound');
      expect(audit.items).toContainEqual(
        expect.objectContaining({
          action: 'appliance.bind_refused',
          outcome: 'refused',
          details: expect.objectContaining({
            clientId: pbx.clientId,
            boundTenantId: a.id,
            onboardingId: onboarding.id,
          }) as unknown,
        }),
      );
    },
  );
});
