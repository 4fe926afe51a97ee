/**
 * A mailbox user's side of a grant on the wire (src/grants/grant-sign-in.ts): the link's landing page, the
 * sign-in at the simulated Microsoft for the grant's tenant with the delegated scope and `login_hint`, and the
 * return to `/mailbox-grants/callback`, after which the grant is `active` for that user and the broker holds
 * their refresh token sealed — one Entra really redeems. It completes only in the browser that started it, only
 * for the mailbox the grant names, and records nothing otherwise.
 * @module
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let admin: string;
let tenant: ConsentedTenant;
let applianceId: string;
let queue: string;

const api = async <T>(path: string, method = 'GET', body?: unknown): Promise<{ status: number; body: T }> => {
  const res = await fetch(`${broker.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${admin}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
};

async function newGrant(mailbox?: string): Promise<{ id: string; consentUrl: string }> {
  const res = await api<{ id: string; consentUrl: string }>(
    `/api/tenants/${tenant.tenantId}/mailbox-grants`,
    'POST',
    { applianceId, profiles: ['user-imap'], ...(mailbox ? { mailbox } : {}) },
  );
  expect(res.status).toBe(201);
  return res.body;
}

const grant = async (id: string) =>
  (await api<Record<string, unknown>>(`/api/tenants/${tenant.tenantId}/mailbox-grants/${id}`)).body;

beforeAll(async () => {
  broker = await startTestBroker();
  admin = await broker.staffToken();
  tenant = await consentedTenant(broker.url, admin, 'Queue Sign In Ltd');
  queue = `queue@${tenant.domain}`;
  await control('POST', `/_sim/tenants/${tenant.tenantId}/users`, { userPrincipalName: queue });
  const res = await api<{ clientId: string }>('/api/appliances', 'POST', {
    customerRef: 'PBX-QUEUE',
    tenantId: tenant.tenantId,
    profiles: ['user-imap'],
    auth: { method: 'client_secret' },
  });
  expect(res.status).toBe(201);
  applianceId = res.body.clientId;
}, 60_000);

afterAll(async () => {
  await broker?.close();
});

describe('a mailbox user signs in with the grant’s link', () => {
  it('sees what the equipment may do, signs in at Microsoft, and the grant is active with a refresh token kept', async () => {
    const { id, consentUrl } = await newGrant(queue);
    const browser = new ConsentBrowser(broker.url);
    const landing = await browser.open(consentUrl);
    expect(landing.status).toBe(200);
    expect(landing.body).toContain(queue);
    expect(landing.body).toContain('IMAP.AccessAsUser.All');

    const microsoft = await browser.open(`${consentUrl}/go`);
    const authorize = new URL(browser.visited.find((u) => u.includes('/oauth2/v2.0/authorize'))!);
    expect(authorize.pathname).toBe(`/${tenant.tenantId}/oauth2/v2.0/authorize`);
    expect(authorize.searchParams.get('login_hint')).toBe(queue);
    expect(authorize.searchParams.get('redirect_uri')).toBe('http://localhost:7071/mailbox-grants/callback');
    expect(authorize.searchParams.get('scope')?.split(' ')).toContain(
      'https://outlook.office365.com/IMAP.AccessAsUser.All',
    );
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');

    const done = await browser.submit(microsoft, { login: queue });
    expect(done.status, done.body.slice(0, 400)).toBe(200);
    expect(done.body).toContain('Your mailbox is connected');

    const active = await grant(id);
    expect(active).toMatchObject({ status: 'active', user: { userPrincipalName: queue } });
    expect(JSON.stringify(active)).not.toMatch(/refresh|"1\./i);

    // What is stored opens (with the grant's id) to a refresh token Entra redeems for the user's IMAP token.
    const b = await broker.instance();
    const stored = await b.mailboxGrants.get(tenant.tenantId, id);
    expect(stored?.refreshToken?.v).toBe(1);
    const refreshToken = await b.custody.open(stored!.refreshToken!, id);
    expect(JSON.stringify(stored)).not.toContain(refreshToken);
    const sandbox = inject('sandbox');
    const redeemed = await fetch(`${inject('entraUrl')}/${tenant.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        scope: 'https://outlook.office365.com/IMAP.AccessAsUser.All offline_access',
        client_id: sandbox.homeApp.clientId,
        client_secret: sandbox.homeApp.clientSecret,
      }).toString(),
    });
    expect(redeemed.status).toBe(200);

    // The link is used now.
    expect((await new ConsentBrowser(broker.url).open(consentUrl)).status).toBe(410);
    const audit = await api<{ items: { action: string; target: string | null }[] }>(
      `/api/audit?tenantId=${tenant.tenantId}`,
    );
    expect(audit.body.items.filter((e) => e.target === id).map((e) => e.action)).toEqual([
      'mailbox_grant.created',
      'mailbox_grant.granted',
    ]);
  });

  it('refuses the return in another browser than the one that started it, recording nothing', async () => {
    const { id, consentUrl } = await newGrant(queue);
    const starter = new ConsentBrowser(broker.url);
    const go = await fetch(`${broker.url}${new URL(consentUrl).pathname}/go`, { redirect: 'manual' });
    expect(go.status).toBe(302);
    // Another browser signs in with the starter's authorize URL (an attacker's lure) and returns without its cookie.
    const other = new ConsentBrowser(broker.url);
    const page = await other.open(go.headers.get('location')!);
    const returned = await other.submit(page, { login: queue });
    expect(returned.status).toBe(400);
    expect(returned.body).toContain('started in another browser');
    expect((await grant(id)).status).toBe('pending');
    expect(starter.visited).toEqual([]);
  });

  it('refuses another user than the mailbox the grant names (403), and the grant stays pending', async () => {
    const { id, consentUrl } = await newGrant(queue);
    const browser = new ConsentBrowser(broker.url);
    const page = await browser.open(`${consentUrl}/go`);
    const done = await browser.submit(page, { login: `admin@${tenant.domain}` });
    expect(done.status).toBe(403);
    expect(done.body).toContain('This is a different account');
    expect(await grant(id)).toMatchObject({ status: 'pending', user: null });
  });
});
