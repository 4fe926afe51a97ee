/**
 * The Entra simulator's delegated tokens for a resource and its `refresh_token` grant, as
 * simulators/entra/refresh-token.ts documents them from Microsoft's pages: a user who signs in asking for
 * `https://outlook.office365.com/IMAP.AccessAsUser.All offline_access` (registered, and admin-consented, as a
 * Microsoft Graph permission) gets an Exchange token with that `scp` and a refresh token; each refresh returns a
 * new refresh token and leaves the old one working; and a refresh is refused with Entra's code when the user's
 * sessions were revoked (50173), the account is disabled (50057), MFA is now required (50076), a sign-in
 * frequency applies (70043), the user is gone (50034) or the consent was removed (65001), and after 90 days of
 * inactivity (700082).
 * @module
 */
import { decodeJwt } from 'jose';
import { describe, expect, inject, it } from 'vitest';
import { World } from '../../simulators/common/world.js';
import { issueRefreshToken, refreshRefusal } from '../../simulators/entra/refresh-token.js';
import { control, newTenant } from '../helpers/sim-control.js';

const entra = (): string => inject('entraUrl');
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const REDIRECT = 'https://isv.example/mailbox-grants/callback';
const CALLBACK = 'https://isv.example/consent/callback';
const IMAP = 'https://outlook.office365.com/IMAP.AccessAsUser.All';
const SIGN_IN = `${IMAP} offline_access openid profile`;

interface Setup {
  appId: string;
  secret: string;
  tenant: string;
  user: string;
  cookie: string;
}

/** A multitenant app listing IMAP.AccessAsUser.All on Graph, admin-consented in a new tenant; the admin's session. */
async function setup(): Promise<Setup> {
  const app = await control<{ appId: string }>('POST', '/_sim/apps', {
    displayName: 'Mailbox grant app',
    homeTenantId: inject('sandbox').vendorTenantId,
    multitenant: true,
    redirectUris: [CALLBACK, REDIRECT],
    requiredScopes: { [GRAPH_APP_ID]: ['openid', 'profile', 'offline_access', 'IMAP.AccessAsUser.All'] },
  });
  const { value: secret } = await control<{ value: string }>('POST', `/_sim/apps/${app.appId}/secrets`, {});
  const tenant = await newTenant('Refresh token customer');
  const user = `ga@${tenant}.example`;
  await control('POST', `/_sim/tenants/${tenant}/users`, {
    userPrincipalName: user,
    directoryRoles: [GLOBAL_ADMIN],
  });
  const res = await fetch(`${entra()}/organizations/v2.0/adminconsent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: app.appId,
      redirect_uri: CALLBACK,
      scope: 'https://graph.microsoft.com/.default',
      state: 'c-1',
      user,
      decision: 'approve',
    }).toString(),
  });
  expect(res.status).toBe(302);
  return { appId: app.appId, secret, tenant, user, cookie: res.headers.get('set-cookie')!.split(';')[0]! };
}

async function token(s: Setup, form: Record<string, string>) {
  const res = await fetch(`${entra()}/${s.tenant}/oauth2/v2.0/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: s.appId, client_secret: s.secret, ...form }).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** The user's silent sign-in (the admin consent covers them) and the code's redemption. */
async function signIn(s: Setup): Promise<Record<string, unknown>> {
  const url = `${entra()}/${s.tenant}/oauth2/v2.0/authorize?${new URLSearchParams({
    client_id: s.appId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: SIGN_IN,
    state: 'st',
    prompt: 'none',
    login_hint: s.user,
  })}`;
  const res = await fetch(url, { redirect: 'manual', headers: { cookie: s.cookie } });
  expect(res.status).toBe(302);
  const loc = new URL(res.headers.get('location')!);
  expect(loc.searchParams.get('error'), loc.searchParams.get('error_description') ?? '').toBeNull();
  const redeemed = await token(s, {
    grant_type: 'authorization_code',
    code: loc.searchParams.get('code')!,
    redirect_uri: REDIRECT,
    scope: SIGN_IN,
  });
  expect(redeemed.status).toBe(200);
  return redeemed.body;
}

const refresh = (s: Setup, refreshToken: string, scope = `${IMAP} offline_access`) =>
  token(s, { grant_type: 'refresh_token', refresh_token: refreshToken, scope });

const aadsts = (body: Record<string, unknown>) => (body.error_codes as number[] | undefined)?.[0];

describe('Entra simulator: delegated tokens for a resource', () => {
  it('gives an Exchange token with the asked scp and a refresh token, on Graph-registered consent', async () => {
    const s = await setup();
    const body = await signIn(s);
    const claims = decodeJwt(body.access_token as string);
    expect(claims.aud).toBe('https://outlook.office365.com');
    expect(claims.scp).toBe('IMAP.AccessAsUser.All');
    expect(claims.upn).toBe(s.user);
    expect(body.scope).toBe(`openid profile ${IMAP} offline_access`);
    expect(body.refresh_token).toMatch(/^1\./);
    expect(body.id_token).toBeDefined();
  });

  it('refuses scopes of two resources in one token request (AADSTS28000)', async () => {
    const s = await setup();
    const first = await signIn(s);
    const both = await refresh(
      s,
      first.refresh_token as string,
      `${IMAP} https://graph.microsoft.com/Mail.Send`,
    );
    expect(both.status).toBe(400);
    expect(both.body.error).toBe('invalid_scope');
    expect(aadsts(both.body)).toBe(28000);
  });
});

describe('Entra simulator: the refresh_token grant', () => {
  it('answers a new access token and a new refresh token; the old one keeps working', async () => {
    const s = await setup();
    const first = (await signIn(s)).refresh_token as string;
    const again = await refresh(s, first);
    expect(again.status).toBe(200);
    expect(decodeJwt(again.body.access_token as string).scp).toBe('IMAP.AccessAsUser.All');
    const second = again.body.refresh_token as string;
    expect(second).toMatch(/^1\./);
    expect(second).not.toBe(first);
    expect((await refresh(s, first)).status).toBe(200);
    expect((await refresh(s, second)).status).toBe(200);
  });

  it('refuses an unknown refresh token, or another client’s', async () => {
    const s = await setup();
    const other = await setup();
    const rt = (await signIn(s)).refresh_token as string;
    const unknown = await refresh(s, `1.${'x'.repeat(80)}`);
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toBe('invalid_grant');
    const foreign = await token(
      { ...other, tenant: s.tenant },
      { grant_type: 'refresh_token', refresh_token: rt },
    );
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toBe('invalid_grant');
  });

  it.each([
    ['sessions revoked (password changed)', { revokeSignInSessions: true }, 50173, undefined],
    ['the account disabled', { accountEnabled: false }, 50057, undefined],
    ['MFA now required', { mfaRequired: true }, 50076, 'basic_action'],
    ['the user deleted', { deleted: true }, 50034, undefined],
  ])('refuses a refresh after %s, with its AADSTS code', async (_, change, code, suberror) => {
    const s = await setup();
    const rt = (await signIn(s)).refresh_token as string;
    await control('PATCH', `/_sim/tenants/${s.tenant}/users/${encodeURIComponent(s.user)}`, change);
    const refused = await refresh(s, rt);
    expect(refused.status).toBe(400);
    expect(refused.body.error).toBe('invalid_grant');
    expect(aadsts(refused.body)).toBe(code);
    expect(refused.body.error_description).toMatch(new RegExp(`^AADSTS${code}: `));
    expect(refused.body.suberror).toBe(suberror);
  });

  it('refuses one older than a sign-in frequency (70043), and one whose consent was removed (65001)', async () => {
    const s = await setup();
    const rt = (await signIn(s)).refresh_token as string;
    await new Promise((r) => setTimeout(r, 1_100));
    await control('PUT', `/_sim/tenants/${s.tenant}/sign-in-frequency`, { seconds: 1 });
    expect(aadsts((await refresh(s, rt)).body)).toBe(70043);
    await control('PUT', `/_sim/tenants/${s.tenant}/sign-in-frequency`, { seconds: null });
    expect((await refresh(s, rt)).status).toBe(200);
    await control('DELETE', `/_sim/tenants/${s.tenant}/consents/${s.appId}`);
    const refused = await refresh(s, rt);
    expect(refused.body.error).toBe('invalid_grant');
    expect(aadsts(refused.body)).toBe(65001);
  });

  it('expires one unused for 90 days (AADSTS700082), and not a day before', () => {
    let now = Date.parse('2026-12-01T00:00:00Z');
    const world = new World(() => now);
    const tenant = world.addTenant({ displayName: 'Inactive Ltd', domains: ['inactive.example'] });
    const user = world.addUser(tenant, { userPrincipalName: 'pbx@inactive.example' });
    issueRefreshToken(world, { clientId: 'c', tenantId: tenant.id, userObjectId: user.objectId, scopes: [] });
    const rt = { clientId: 'c', tenantId: tenant.id, userObjectId: user.objectId, scopes: [], issuedAt: now };
    now += 89 * 86_400_000;
    expect(refreshRefusal(world, rt, tenant, user)).toBeUndefined();
    now += 86_400_000;
    const expired = refreshRefusal(world, rt, tenant, user);
    expect(expired?.aadsts).toBe(700082);
    expect(expired?.description).toBe(
      'The refresh token has expired due to inactivity. The token was issued on 2026-12-01T00:00:00.000Z and was inactive for 90.00:00:00.',
    );
  });

  it('keeps refresh tokens across a sandbox restart (the World snapshot), by their hash only', () => {
    const world = new World();
    const tenant = world.addTenant({ displayName: 'Restart Ltd', domains: ['restart.example'] });
    const user = world.addUser(tenant, { userPrincipalName: 'pbx@restart.example' });
    const token = issueRefreshToken(world, {
      clientId: 'c',
      tenantId: tenant.id,
      userObjectId: user.objectId,
      scopes: [IMAP],
    });
    const text = JSON.stringify(world.snapshot());
    expect(text).not.toContain(token);
    const restarted = new World();
    restarted.restore(JSON.parse(text) as ReturnType<World['snapshot']>);
    expect([...restarted.refreshTokens.values()]).toEqual([...world.refreshTokens.values()]);
    expect(restarted.refreshTokens.size).toBe(1);
  });
});
