/**
 * The support console on the wire (issue 22), with the fetch-driven browser against the Entra simulator: staff
 * sign in with Entra ID (the sandbox's support users), get a session cookie with the stated attributes, see the
 * overview, search tenants and open one; a sign-in completes only in the browser that started it; an account
 * without a console role, or of another tenant, gets a clear refusal page and no session; sign-out needs the
 * session's CSRF token and ends the session for every copy of the cookie.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConsentBrowser, type Visit } from '../helpers/consent-browser.js';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';

let broker: TestBroker;
let customer: ConsentedTenant;

beforeAll(async () => {
  broker = await startTestBroker();
  customer = await consentedTenant(broker.url, await broker.staffToken(), 'Console Customer');
});
afterAll(async () => {
  await broker?.close();
});

/** Signs `account` in to the console in a fresh browser; returns the browser and the page it lands on. */
async function signIn(account: string): Promise<{ browser: ConsentBrowser; page: Visit }> {
  const browser = new ConsentBrowser(broker.url);
  const signInPage = await browser.open(`${broker.url}/console`);
  expect(signInPage.body).toContain('Sign in');
  const page = await browser.submit(signInPage, { account });
  return { browser, page };
}

/** Starts a console sign-in in `browser` and signs `account` in at Microsoft; returns the callback URL, unvisited. */
async function callbackOf(browser: ConsentBrowser, account: string): Promise<string> {
  const signInPage = await browser.open(`${broker.url}/console/signin`);
  const action = /<form method="post" action="([^"]+)"/.exec(signInPage.body)![1]!.replace(/&amp;/g, '&');
  const hidden = [...signInPage.body.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g)].map(
    ([, k, v]) => [k!, v!.replace(/&amp;/g, '&')] as [string, string],
  );
  const res = await fetch(new URL(action, signInPage.url), {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: browser.cookieHeader(signInPage.url),
    },
    body: new URLSearchParams([...hidden, ['account', account]]).toString(),
    redirect: 'manual',
  });
  return res.headers.get('location')!.replace('http://localhost:7071', broker.url);
}

const csrfOf = (page: Visit) => /name="csrf" value="([^"]+)"/.exec(page.body)?.[1];

describe('support console', () => {
  it('sends a browser without a session to the sign-in at the vendor tenant', async () => {
    const res = await fetch(`${broker.url}/console`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/console/signin');
    const go = await fetch(`${broker.url}/console/signin`, { redirect: 'manual' });
    const to = new URL(go.headers.get('location')!);
    expect(to.pathname).toBe(`/${inject('sandbox').vendorTenantId}/oauth2/v2.0/authorize`);
    expect(to.searchParams.get('code_challenge_method')).toBe('S256');
    expect(to.searchParams.get('redirect_uri')).toBe('http://localhost:7071/console/callback');
    expect(go.headers.get('set-cookie')).toMatch(
      /^console-browser=[\w-]{43}; Path=\/; Max-Age=900; HttpOnly; SameSite=Lax$/,
    );
  });

  it('signs a Broker.Admin user in: a session cookie, the overview, tenant search and a tenant page', async () => {
    const { browser, page } = await signIn(inject('sandbox').staff.admin);
    expect(page.status).toBe(200);
    expect(new URL(page.url).pathname).toBe('/console');
    expect(page.body).toContain('Tenants by status');
    expect(page.body).toContain('Broker.Admin');
    const cookie = browser.cookieHeader(`${broker.url}/console`);
    expect(cookie).toMatch(/console-session=[\w-]{43}\.[\w-]{43}/);
    // Signed: the id alone, or with another MAC, opens nothing.
    const [id, mac] = /console-session=([\w-]{43})\.([\w-]{43})/.exec(cookie)!.slice(1) as [string, string];
    for (const forged of [id, `${id}.${mac.split('').reverse().join('')}`, `${id}.${mac}.x`]) {
      const res = await fetch(`${broker.url}/console`, {
        headers: { cookie: `console-session=${forged}` },
        redirect: 'manual',
      });
      expect(res.status, forged.slice(0, 50)).toBe(302);
    }
    expect(
      (
        await fetch(`${broker.url}/console`, {
          headers: { cookie: `console-session=${id}.${mac}` },
          redirect: 'manual',
        })
      ).status,
    ).toBe(200);

    const list = await browser.open(`${broker.url}/console/tenants?q=REF-consolecustomer`);
    expect(list.status).toBe(200);
    expect(list.body).toContain('Console Customer');
    expect(list.body).toContain(`/console/tenants/${customer.tenantId}`);
    const byDomain = await browser.open(`${broker.url}/console/tenants?q=someone%40${customer.domain}`);
    expect(byDomain.body).toContain(`domain ${customer.domain}`);
    expect(byDomain.body).toContain('Console Customer');

    // A tenant id opens its page directly.
    const tenant = await browser.open(`${broker.url}/console/tenants?q=${customer.tenantId.toUpperCase()}`);
    expect(new URL(tenant.url).pathname).toBe(`/console/tenants/${customer.tenantId}`);
    expect(tenant.body).toContain('Connected');
    expect(tenant.body).toContain('IMAP.AccessAsApp');
    expect(tenant.body).toContain('<code>consent.granted</code>');
    expect(tenant.headers.get('content-security-policy')).toContain("default-src 'none'");

    const bad = await browser.open(`${broker.url}/console/tenants?status=sleeping`);
    expect(bad.status).toBe(400);
    expect(bad.body).toContain('There is no status');
    const unknown = await browser.open(`${broker.url}/console/tenants/00000000-0000-4000-8000-000000000000`);
    expect(unknown.status).toBe(404);
  });

  it('sets the session cookie HttpOnly, SameSite=Lax, for the absolute limit', async () => {
    const browser = new ConsentBrowser(broker.url);
    const callback = await callbackOf(browser, inject('sandbox').staff.reader);
    const done = await fetch(callback, {
      headers: { cookie: browser.cookieHeader(`${broker.url}/console/callback`) },
      redirect: 'manual',
    });
    expect(done.status).toBe(302);
    expect(done.headers.get('set-cookie')).toMatch(
      /^console-session=[\w-]{43}\.[\w-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax$/,
    );
  });

  it('completes a sign-in only in the browser that started it', async () => {
    // The attacker's browser signs in at Microsoft, and hands the callback URL to a victim's browser.
    const callback = await callbackOf(new ConsentBrowser(broker.url), inject('sandbox').staff.admin);
    const victim = await fetch(callback, { redirect: 'manual' });
    expect(victim.status).toBe(400);
    expect(victim.headers.get('set-cookie')).toBeNull();
    expect(await victim.text()).toContain('Sign-in expired');
  });

  it('refuses a vendor account without a console role with a clear page and no session, and audits it', async () => {
    const vendor = inject('sandbox').vendorTenantId;
    const upn = `norole-${Date.now()}@vendor.example`;
    await control('POST', `/_sim/tenants/${vendor}/users`, { userPrincipalName: upn });
    const { browser, page } = await signIn(upn);
    expect(page.status).toBe(403);
    expect(page.body).toContain('No console role');
    expect(browser.cookieHeader(`${broker.url}/console`)).not.toContain('console-session=');
    const audit = await fetch(
      `${broker.url}/api/audit?since=${new Date(Date.now() - 60_000).toISOString()}`,
      {
        headers: { authorization: `Bearer ${await broker.staffToken()}` },
      },
    );
    const entries = ((await audit.json()) as { items: { action: string; details: { reason?: string } }[] })
      .items;
    expect(entries.some((e) => e.action === 'console.sign_in_refused' && e.details.reason === 'noRole')).toBe(
      true,
    );
  });

  it('opens no session for an account of another tenant: Entra refuses it at the vendor tenant (AADSTS50020)', async () => {
    const { browser, page } = await signIn(`admin@${customer.domain}`);
    // Microsoft's own error page: at a tenant's authority, an account of another tenant that is no guest there is
    // refused before any redirect (FACTS.md §14). Were a token of another tenant ever to come back, the callback
    // refuses it too (src/console/sign-in.ts `otherTenant`).
    expect(new URL(page.url).pathname).toBe(`/${inject('sandbox').vendorTenantId}/oauth2/v2.0/authorize`);
    expect(page.body).toContain('AADSTS50020');
    expect(browser.cookieHeader(`${broker.url}/console`)).not.toContain('console-session=');
  });

  it('signs out only with the session CSRF token, and then the cookie opens nothing', async () => {
    const { browser, page } = await signIn(inject('sandbox').staff.reader);
    const csrf = csrfOf(page);
    expect(csrf).toMatch(/^[\w-]{20,}$/);
    const cookie = browser.cookieHeader(`${broker.url}/console`);
    const post = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${broker.url}/console/signout`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, ...headers },
        body,
        redirect: 'manual',
      });
    expect((await post('csrf=forged')).status).toBe(403);
    expect((await post(`csrf=${csrf}`, { origin: 'https://attacker.example' })).status).toBe(403);
    // Still signed in after the refusals.
    expect((await fetch(`${broker.url}/console`, { headers: { cookie }, redirect: 'manual' })).status).toBe(
      200,
    );
    const out = await post(`csrf=${csrf}`);
    expect(out.status).toBe(200);
    expect(await out.text()).toContain('Signed out');
    expect(out.headers.get('set-cookie')).toMatch(/^console-session=; Path=\/; Max-Age=0/);
    // A copy of the cookie kept elsewhere opens nothing now.
    const after = await fetch(`${broker.url}/console`, { headers: { cookie }, redirect: 'manual' });
    expect(after.status).toBe(302);
  });
});
