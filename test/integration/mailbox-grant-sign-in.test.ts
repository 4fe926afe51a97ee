/**
 * A mailbox user's side of a grant on the wire (src/grants/grant-sign-in.ts): the link's landing page, the
 * sign-in at the simulated Microsoft for the grant's tenant with the delegated scope and `login_hint`, and the
 * return to `/mailbox-grants/callback`, after which the grant is `active` for that user and the broker holds
 * their refresh token sealed — one Entra really redeems. It completes only in the browser that started it, only
 * for the mailbox the grant names, and records nothing otherwise. Then the grant gives that user's access tokens
 * (src/grants/grant-tokens.ts), keeps the rotated refresh token once a day, and turns `reauth_required` —
 * audited, never retried — when Microsoft refuses the refresh.
 * @module
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { grantAccessToken, GrantUnusable, type GrantTokenDeps } from '../../src/grants/grant-tokens.js';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { consentedTenant, type ConsentedTenant } from '../helpers/consented-tenant.js';
import { control } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
let admin: string;
let tenant: ConsentedTenant;
let applianceId: string;
let applianceSecret: string;
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
  const res = await api<{ clientId: string; clientSecret: string }>('/api/appliances', 'POST', {
    customerRef: 'PBX-QUEUE',
    tenantId: tenant.tenantId,
    profiles: ['user-imap'],
    auth: { method: 'client_secret' },
  });
  expect(res.status).toBe(201);
  applianceId = res.body.clientId;
  applianceSecret = res.body.clientSecret;
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

  it('takes one sign-in per link: a second tab that finishes later is refused (410) and changes nothing', async () => {
    const user = `second-tab@${tenant.domain}`;
    await control('POST', `/_sim/tenants/${tenant.tenantId}/users`, { userPrincipalName: user });
    const { id, consentUrl } = await newGrant(user);
    const browser = new ConsentBrowser(broker.url);
    const first = await browser.open(`${consentUrl}/go`);
    const second = await browser.open(`${consentUrl}/go`);
    expect((await browser.submit(first, { login: user })).status).toBe(200);
    const kept = (await (await broker.instance()).mailboxGrants.get(tenant.tenantId, id))!.refreshToken;
    expect((await browser.submit(second, { login: user })).status).toBe(410);
    expect((await (await broker.instance()).mailboxGrants.get(tenant.tenantId, id))!.refreshToken).toEqual(
      kept,
    );
  });

  it('accepts a user with Full Access to the shared mailbox it names, proven by Exchange’s IMAP; refuses one without', async () => {
    const shared = `support@${tenant.domain}`;
    const delegate = `agent@${tenant.domain}`;
    const outsider = `visitor@${tenant.domain}`;
    for (const u of [delegate, outsider])
      await control('POST', `/_sim/tenants/${tenant.tenantId}/users`, { userPrincipalName: u });
    await control('POST', `/_sim/tenants/${tenant.tenantId}/mailboxes`, {
      address: shared,
      fullAccess: [delegate],
    });
    const { id, consentUrl } = await newGrant(shared);

    const first = new ConsentBrowser(broker.url);
    const refused = await first.submit(await first.open(`${consentUrl}/go`), { login: outsider });
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('Full Access');
    expect(await grant(id)).toMatchObject({ status: 'pending', user: null });

    const second = new ConsentBrowser(broker.url);
    const done = await second.submit(await second.open(`${consentUrl}/go`), { login: delegate });
    expect(done.status, done.body.slice(0, 300)).toBe(200);
    expect(await grant(id)).toMatchObject({
      status: 'active',
      mailbox: shared,
      user: { userPrincipalName: delegate },
    });
    const audit = await api<{
      items: { action: string; target: string | null; details: Record<string, unknown> }[];
    }>(`/api/audit?tenantId=${tenant.tenantId}`);
    expect(
      audit.body.items.find((e) => e.target === id && e.action === 'mailbox_grant.granted')?.details,
    ).toMatchObject({
      userPrincipalName: delegate,
      sharedMailbox: shared,
    });
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

/** An active grant for a new user of the tenant, through the real sign-in. */
async function activeGrant(user: string): Promise<string> {
  await control('POST', `/_sim/tenants/${tenant.tenantId}/users`, { userPrincipalName: user });
  const { id, consentUrl } = await newGrant(user);
  const browser = new ConsentBrowser(broker.url);
  const done = await browser.submit(await browser.open(`${consentUrl}/go`), { login: user });
  expect(done.status).toBe(200);
  return id;
}

async function tokenDeps(): Promise<GrantTokenDeps & { calls: () => number }> {
  const b = await broker.instance();
  let calls = 0;
  return {
    grants: b.mailboxGrants,
    custody: b.custody,
    signIn: { redeemRefreshToken: (r) => (calls++, b.signIn.redeemRefreshToken(r)) },
    profiles: b.profiles,
    apps: b.apps,
    audit: b.audit,
    now: b.now,
    calls: () => calls,
  };
}

const IMAP = 'https://outlook.office365.com/IMAP.AccessAsUser.All';

describe('the grant gives its user’s access tokens', () => {
  it('for the scopes of its profiles only', async () => {
    const user = `reception@${tenant.domain}`;
    const id = await activeGrant(user);
    const deps = await tokenDeps();
    const stored = (await deps.grants.get(tenant.tenantId, id))!;
    const { accessToken, expiresOn } = await grantAccessToken(deps, stored, IMAP);
    const claims = decodeJwt(accessToken);
    expect(claims).toMatchObject({
      aud: 'https://outlook.office365.com',
      scp: 'IMAP.AccessAsUser.All',
      upn: user,
    });
    expect(expiresOn.getTime()).toBeGreaterThan(Date.now());
    const err = await grantAccessToken(deps, stored, 'https://graph.microsoft.com/Mail.Send').catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GrantUnusable);
    expect((err as GrantUnusable).status).toBe('scope_not_granted');
  });

  it('keeps the rotated refresh token when the one kept is over a day old, and not before', async () => {
    const id = await activeGrant(`voicemail@${tenant.domain}`);
    const deps = await tokenDeps();
    const fresh = (await deps.grants.get(tenant.tenantId, id))!;
    await grantAccessToken(deps, fresh, IMAP);
    expect((await deps.grants.get(tenant.tenantId, id))!.refreshToken).toEqual(fresh.refreshToken);
    const old = await deps.grants.update({
      ...fresh,
      refreshTokenKeptAt: new Date(Date.now() - 2 * 86_400_000).toISOString(),
    });
    await grantAccessToken(deps, old, IMAP);
    const rotated = (await deps.grants.get(tenant.tenantId, id))!;
    expect(rotated.refreshToken).not.toEqual(fresh.refreshToken);
    expect(Date.now() - Date.parse(rotated.refreshTokenKeptAt!)).toBeLessThan(60_000);
    // The newer one works, and so does the older (Microsoft does not revoke it).
    const before = await deps.custody.open(fresh.refreshToken!, id);
    const after = await deps.custody.open(rotated.refreshToken!, id);
    expect(after).not.toBe(before);
    await grantAccessToken(deps, rotated, IMAP);
  });

  it('turns reauth_required with Microsoft’s code when the refresh is refused, audited, and never retries', async () => {
    const user = `frontdesk@${tenant.domain}`;
    const id = await activeGrant(user);
    await control('PATCH', `/_sim/tenants/${tenant.tenantId}/users/${encodeURIComponent(user)}`, {
      revokeSignInSessions: true,
    });
    const deps = await tokenDeps();
    const err = await grantAccessToken(deps, (await deps.grants.get(tenant.tenantId, id))!, IMAP).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(GrantUnusable);
    expect(err).toMatchObject({ status: 'reauth_required', code: 'AADSTS50173' });
    expect((err as Error).message).toContain('sessions were revoked');
    expect(await grant(id)).toMatchObject({
      status: 'reauth_required',
      error: { code: 'AADSTS50173', message: expect.stringContaining('revoked') },
    });
    const again = await grantAccessToken(deps, (await deps.grants.get(tenant.tenantId, id))!, IMAP).catch(
      (e: unknown) => e,
    );
    expect(again).toMatchObject({ status: 'reauth_required', code: 'AADSTS50173' });
    expect(deps.calls()).toBe(1);
    const audit = await api<{ items: { action: string; target: string | null; outcome: string }[] }>(
      `/api/audit?tenantId=${tenant.tenantId}`,
    );
    expect(audit.body.items.filter((e) => e.target === id).map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'mailbox_grant.created success',
      'mailbox_grant.granted success',
      'mailbox_grant.reauth_required failed',
    ]);
  });
});

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

async function asAppliance<T>(path: string, auth = basic(applianceId, applianceSecret)) {
  const res = await fetch(`${broker.url}${path}`, { headers: { authorization: auth } });
  return { status: res.status, body: (await res.json()) as T };
}

async function refresh(handle: string, scope?: string, auth = basic(applianceId, applianceSecret)) {
  const res = await fetch(`${broker.url}/oauth2/token`, {
    method: 'POST',
    headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: handle,
      ...(scope ? { scope } : {}),
    }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string> };
}

describe('the appliance’s side of a grant', () => {
  it('reads its handle once active, gets the user’s token with it, and the handle is shown no more', async () => {
    const id = await activeGrant(`pbx-queue@${tenant.domain}`);
    const list = await asAppliance<{ items: { id: string; status: string }[] }>('/appliance/mailbox-grants');
    expect(list.status).toBe(200);
    expect(list.body.items.find((g) => g.id === id)?.status).toBe('active');
    const read = await asAppliance<{ refresh_token?: string; status: string }>(
      `/appliance/mailbox-grants/${id}`,
    );
    expect(read.body.status).toBe('active');
    const handle = read.body.refresh_token!;
    expect(handle).toMatch(/^mbh_[A-Za-z0-9_-]{43}$/);

    const first = await refresh(handle, `${IMAP} offline_access`);
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    expect(first.body.refresh_token).toBe(handle);
    expect(first.body.scope).toBe(IMAP);
    expect(decodeJwt(first.body.access_token!)).toMatchObject({
      aud: 'https://outlook.office365.com',
      scp: 'IMAP.AccessAsUser.All',
      upn: `pbx-queue@${tenant.domain}`,
    });
    expect(Number(first.body.expires_in)).toBeGreaterThan(60);
    // Used once: no longer shown; still good.
    expect(
      (await asAppliance<Record<string, unknown>>(`/appliance/mailbox-grants/${id}`)).body.refresh_token,
    ).toBeUndefined();
    expect((await refresh(handle)).status).toBe(200);
    // The handle is no Microsoft refresh token: Entra does not know it.
    const sandbox = inject('sandbox');
    const atEntra = await fetch(`${inject('entraUrl')}/${tenant.tenantId}/oauth2/v2.0/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: handle,
        client_id: sandbox.homeApp.clientId,
        client_secret: sandbox.homeApp.clientSecret,
      }).toString(),
    });
    expect(atEntra.status).toBe(400);
  });

  it('is worthless to another appliance, refuses a scope the grant does not allow, and ends with the grant', async () => {
    const id = await activeGrant(`pbx-other@${tenant.domain}`);
    const handle = (await asAppliance<{ refresh_token: string }>(`/appliance/mailbox-grants/${id}`)).body
      .refresh_token;
    const other = await api<{ clientId: string; clientSecret: string }>('/api/appliances', 'POST', {
      customerRef: 'PBX-THIEF',
      tenantId: tenant.tenantId,
      profiles: ['user-imap'],
      auth: { method: 'client_secret' },
    });
    const thief = basic(other.body.clientId, other.body.clientSecret);
    expect((await asAppliance(`/appliance/mailbox-grants/${id}`, thief)).status).toBe(404);
    const stolen = await refresh(handle, IMAP, thief);
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
    expect(stolen.body.error_description).toContain('not a mailbox grant of this appliance');

    const wrongScope = await refresh(handle, 'https://graph.microsoft.com/Mail.Send');
    expect(wrongScope.status).toBe(400);
    expect(wrongScope.body.error).toBe('invalid_scope');

    expect((await api(`/api/tenants/${tenant.tenantId}/mailbox-grants/${id}`, 'DELETE')).status).toBe(200);
    const revoked = await refresh(handle);
    expect(revoked.body.error).toBe('invalid_grant');
    expect(revoked.body.error_description).toContain('revoked');
  });

  it('asks for a grant itself: a link for its user, in its own tenant; bad input is a clear 4xx', async () => {
    const post = (body: unknown, auth = basic(applianceId, applianceSecret)) =>
      fetch(`${broker.url}/appliance/mailbox-grants`, {
        method: 'POST',
        headers: { authorization: auth, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const res = await post({ profiles: ['user-imap'], mailbox: queue });
    expect(res.status).toBe(201);
    const created = (await res.json()) as { id: string; consentUrl: string };
    expect(created.consentUrl).toMatch(/\/mailbox-grants\/[A-Za-z0-9_-]{22}$/);
    expect(await grant(created.id)).toMatchObject({ applianceId, status: 'pending', mailbox: queue });
    expect((await post({ profiles: ['user-pop'] })).status).toBe(400);
    expect((await post({ profiles: ['user-imap'], extra: 1 })).status).toBe(400);
    expect((await post({ profiles: ['user-imap'] }, basic(applianceId, 'wrong-secret-value'))).status).toBe(
      401,
    );
  });
});
