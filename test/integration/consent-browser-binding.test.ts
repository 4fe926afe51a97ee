/**
 * Browser-bound consent (docs/security.md S12) on the wire, with two browsers (two cookie jars): a consent
 * `state` completes only in the browser that asked for it (RFC 6749 §10.12, RFC 9700 §4.7). The attack: an
 * attacker holding an unbound appliance X starts X's onboarding, keeps the `state` of its `/go` without
 * following it, and sends a signed-in Global Administrator of a tenant V that consented earlier to
 * `/consent/callback?…&tenant=V&state=S`. Before the fix the silent sign-in succeeded as V's admin and X was
 * bound to V.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';
import { basicAuth } from '../helpers/appliances.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
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

const basic = basicAuth;

async function staffApi<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${broker.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json', ...init.headers },
  });
  return (await res.json()) as T;
}

/** Tenant V, which consented earlier through the broker; its admin's browser is signed in at Microsoft. */
async function victim(name: string) {
  const slug = name.toLowerCase().replace(/[^a-z]/g, '');
  const id = await newTenant(name, [`${slug}.example`]);
  await control('POST', `/_sim/tenants/${id}/users`, {
    userPrincipalName: `admin@${slug}.example`,
    directoryRoles: [GLOBAL_ADMIN],
  });
  const { consentUrl } = await staffApi<{ consentUrl: string }>('/api/onboardings', {
    method: 'POST',
    body: JSON.stringify({ customerRef: `V-${slug}`, profiles: ['exchange-imap'] }),
  });
  const browser = new ConsentBrowser(broker.url);
  const done = await browser.submit(await browser.open(`${consentUrl}/go`), {
    user: `admin@${slug}.example`,
    decision: 'approve',
  });
  expect(done.status).toBe(200);
  return { id, browser };
}

/** The attacker's unbound appliance X, its onboarding, and the state of its `/go` in the attacker's browser. */
async function attacker() {
  const x = await staffApi<{ clientId: string; clientSecret: string }>('/api/appliances', {
    method: 'POST',
    body: JSON.stringify({
      customerRef: 'EVIL-1',
      profiles: ['exchange-imap'],
      auth: { method: 'client_secret' },
    }),
  });
  const created = await fetch(`${broker.url}/appliance/onboardings`, {
    method: 'POST',
    headers: { authorization: basic(x) },
  });
  expect(created.status).toBe(201);
  const onboarding = (await created.json()) as { id: string; consentUrl: string };
  const go = await fetch(onboarding.consentUrl.replace('http://localhost:7071', broker.url) + '/go', {
    redirect: 'manual',
  });
  const state = new URL(go.headers.get('location')!).searchParams.get('state')!;
  const cookie = go.headers.get('set-cookie')!.split(';')[0]!;
  return { x, onboarding, state, cookie };
}

async function bindsNothing(a: Awaited<ReturnType<typeof attacker>>) {
  const poll = (await (
    await fetch(`${broker.url}/appliance/onboardings/${a.onboarding.id}`, {
      headers: { authorization: basic(a.x) },
    })
  ).json()) as Record<string, unknown>;
  expect(poll).toMatchObject({ status: 'pending', tenantId: null, grantedRoles: null });
  expect(await staffApi(`/api/appliances/${a.x.clientId}`)).toMatchObject({ tenantId: null });
  const token = await fetch(`${broker.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: basic(a.x), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: SCOPE }).toString(),
  });
  expect(((await token.json()) as { error: string }).error).toBe('invalid_grant');
}

describe('a consent state completes only in the browser that started it', () => {
  it("binds nothing when a signed-in admin of another tenant is sent to the attacker's state", async () => {
    const v = await victim('Victim Bound');
    const a = await attacker();
    const page = await v.browser.open(
      `http://localhost:7071/consent/callback?admin_consent=True&tenant=${v.id}&state=${a.state}`,
    );
    expect(page.status).toBe(400);
    expect(page.body).toContain('Start again from your link');
    // No sign-in was even started at Microsoft for the attacker's state.
    expect(v.browser.visited.filter((u) => u.includes(a.state))).toHaveLength(1);
    await bindsNothing(a);
  });

  it.each([
    ['no cookie', () => ''],
    ['another browser’s cookie', (own: string, other: string) => other],
  ])('refuses the callback with %s (400) and records nothing', async (_, cookieOf) => {
    const v = await victim(`Victim ${_.length}`);
    const a = await attacker();
    const other = v.browser.cookieHeader(broker.url);
    const res = await fetch(
      `${broker.url}/consent/callback?admin_consent=True&tenant=${v.id}&state=${a.state}`,
      { redirect: 'manual', headers: { cookie: cookieOf(a.cookie, other) } },
    );
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Start again from your link');
    await bindsNothing(a);
    // The refusal did not use the state up: the attacker's own browser could still go on (to its own tenant).
    const own = await fetch(
      `${broker.url}/consent/callback?admin_consent=True&tenant=${v.id}&state=${a.state}`,
      { redirect: 'manual', headers: { cookie: a.cookie } },
    );
    expect(own.status).toBe(302);
  });

  it('refuses a replayed cookie: the state it went with is used, and a new state needs its own /go', async () => {
    const v = await victim('Victim Replay');
    const callback = v.browser.visited.find((u) => u.includes('/consent/callback?'))!;
    const signin = v.browser.visited.find((u) => u.includes('/consent/signin?'))!;
    const cookie = v.browser.cookieHeader(broker.url);
    for (const url of [callback, signin]) {
      const res = await fetch(url.replace('http://localhost:7071', broker.url), {
        redirect: 'manual',
        headers: { cookie },
      });
      expect(res.status).toBe(409);
    }
    // The victim's cookie does not open the attacker's state either.
    const a = await attacker();
    const res = await fetch(
      `${broker.url}/consent/callback?admin_consent=True&tenant=${v.id}&state=${a.state}`,
      { redirect: 'manual', headers: { cookie } },
    );
    expect(res.status).toBe(400);
    await bindsNothing(a);
  });

  it('sets the binding cookie HttpOnly, SameSite=Lax, host-only and short-lived', async () => {
    const a = await attacker();
    const go = await fetch(a.onboarding.consentUrl.replace('http://localhost:7071', broker.url) + '/go', {
      redirect: 'manual',
    });
    const setCookie = go.headers.get('set-cookie')!;
    expect(setCookie).toMatch(
      /^consent-browser=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; HttpOnly; SameSite=Lax$/,
    );
    // An http://localhost public URL gets no Secure (browsers refuse the __Host- prefix without it).
    expect(setCookie).not.toContain('Domain=');
  });
});

describe('an onboarding is not re-pointed at another tenant', () => {
  it('refuses a second state that names another tenant once the onboarding has one', async () => {
    const firstId = await newTenant('Repoint First', ['repointfirst.example']);
    await control('POST', `/_sim/tenants/${firstId}/users`, {
      userPrincipalName: 'admin@repointfirst.example',
      directoryRoles: [GLOBAL_ADMIN],
    });
    // Its consent replicates slowly: the onboarding stays pending, on its way for this tenant.
    await control('PUT', `/_sim/tenants/${firstId}/consent-replication-delay`, { delayMs: 60_000 });
    const first = { id: firstId, browser: new ConsentBrowser(broker.url) };
    const second = await victim('Repoint Second');
    const { consentUrl, id } = await staffApi<{ consentUrl: string; id: string }>('/api/onboardings', {
      method: 'POST',
      body: JSON.stringify({ customerRef: 'REPOINT-1', profiles: ['exchange-imap'] }),
    });
    const done = await first.browser.submit(await first.browser.open(`${consentUrl}/go`), {
      user: `admin@repointfirst.example`,
      decision: 'approve',
    });
    expect(done.status).toBe(200);
    expect(await staffApi(`/api/onboardings/${id}`)).toMatchObject({
      status: 'pending',
      progress: 'pending_verification',
      tenantId: first.id,
    });
    // Now a new state of the same link, returned naming the second tenant, in the second admin's browser.
    await second.browser.open(`${consentUrl}/go`);
    const state = new URL(
      second.browser.visited.filter((u) => u.includes('adminconsent')).at(-1)!,
    ).searchParams.get('state')!;
    const page = await second.browser.open(
      `http://localhost:7071/consent/callback?admin_consent=True&tenant=${second.id}&state=${state}`,
    );
    expect(page.status).toBe(409);
    expect(await staffApi(`/api/onboardings/${id}`)).toMatchObject({ tenantId: first.id });
  });
});
