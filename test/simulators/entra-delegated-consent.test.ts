/**
 * The Entra simulator asks for consent to delegated scopes as Entra does: after an admin's
 * consent to `/.default`, which grants exactly the registration's permissions, a silent (prompt=none) sign-in
 * asking for a delegated scope the registration lacks — such as the `offline_access` MSAL always adds —
 * answers `consent_required` with AADSTS65001; with the scope in the registration it signs in silently. The
 * sign-in page then asks, and the user's consent there lets the next silent sign-in through.
 * @module
 */
import { describe, expect, inject, it } from 'vitest';
import { control, newTenant } from '../helpers/sim-control.js';

const entra = (): string => inject('entraUrl');
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
const REDIRECT = 'https://isv.example/consent/signin';
const CALLBACK = 'https://isv.example/consent/callback';
/** What @azure/msal-node sends whatever the caller asks for (msal-common RequestParameterBuilder addScopes). */
const MSAL_SCOPES = 'openid profile offline_access';

/** An app registration listing these delegated Microsoft Graph scopes, and one Exchange app role. */
async function newApp(delegated: string[]): Promise<string> {
  const app = await control<{ appId: string; requiredScopes?: unknown }>('POST', '/_sim/apps', {
    displayName: 'Delegated consent app',
    homeTenantId: inject('sandbox').vendorTenantId,
    multitenant: true,
    redirectUris: [CALLBACK, REDIRECT],
    requiredRoles: { [EXCHANGE_APP_ID]: ['IMAP.AccessAsApp'] },
    requiredScopes: { [GRAPH_APP_ID]: delegated },
  });
  expect(app.requiredScopes).toEqual({ [GRAPH_APP_ID]: delegated });
  return app.appId;
}

/** A tenant whose Global Administrator approves the app on the v2 admin-consent page; their session cookie. */
async function adminConsent(appId: string): Promise<{ tenant: string; cookie: string }> {
  const tenant = await newTenant('Delegated consent customer');
  await control('POST', `/_sim/tenants/${tenant}/users`, {
    userPrincipalName: `ga@${tenant}.example`,
    directoryRoles: [GLOBAL_ADMIN],
  });
  const res = await fetch(`${entra()}/organizations/v2.0/adminconsent`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      client_id: appId,
      redirect_uri: CALLBACK,
      scope: 'https://graph.microsoft.com/.default',
      state: 'c-1',
      user: `ga@${tenant}.example`,
      decision: 'approve',
    }).toString(),
  });
  expect(res.status).toBe(302);
  expect(new URL(res.headers.get('location')!).searchParams.get('admin_consent')).toBe('True');
  return { tenant, cookie: res.headers.get('set-cookie')!.split(';')[0]! };
}

function authorizeUrl(tenant: string, appId: string, params: Record<string, string> = {}): string {
  return `${entra()}/${tenant}/oauth2/v2.0/authorize?${new URLSearchParams({
    client_id: appId,
    response_type: 'code',
    redirect_uri: REDIRECT,
    scope: MSAL_SCOPES,
    state: 'st-1',
    nonce: 'n-1',
    ...params,
  })}`;
}

async function redirected(url: string, cookie: string): Promise<URL> {
  const res = await fetch(url, { redirect: 'manual', headers: { cookie } });
  expect(res.status).toBe(302);
  return new URL(res.headers.get('location')!);
}

describe('Entra simulator: consent to delegated scopes', () => {
  it('answers a silent sign-in asking for offline_access with consent_required (AADSTS65001) when the registration lacks it', async () => {
    const appId = await newApp(['openid', 'profile']);
    const { tenant, cookie } = await adminConsent(appId);
    const loc = await redirected(authorizeUrl(tenant, appId, { prompt: 'none' }), cookie);
    expect(`${loc.origin}${loc.pathname}`).toBe(REDIRECT);
    expect(loc.searchParams.get('error')).toBe('consent_required');
    expect(loc.searchParams.get('error_description')).toMatch(
      new RegExp(
        `^AADSTS65001: The user or administrator has not consented to use the application with ID '${appId}'.*\\r\\nTrace ID: `,
        's',
      ),
    );
    expect(loc.searchParams.get('state')).toBe('st-1');
    expect(loc.searchParams.has('code')).toBe(false);
    // What the registration lists, the admin granted: asking only for it stays silent.
    const covered = await redirected(
      authorizeUrl(tenant, appId, { prompt: 'none', scope: 'openid profile' }),
      cookie,
    );
    expect(covered.searchParams.has('code')).toBe(true);
  });

  it('signs in silently with a code when the registration lists offline_access', async () => {
    const appId = await newApp(['openid', 'profile', 'offline_access']);
    const { tenant, cookie } = await adminConsent(appId);
    const loc = await redirected(authorizeUrl(tenant, appId, { prompt: 'none' }), cookie);
    expect(loc.searchParams.get('error')).toBeNull();
    expect([...loc.searchParams.keys()]).toEqual(['code', 'state']);
  });

  it('asks on the sign-in page without prompt=none, and the user’s consent there makes the next sign-in silent', async () => {
    const appId = await newApp(['openid', 'profile']);
    const { tenant, cookie } = await adminConsent(appId);
    const page = await fetch(authorizeUrl(tenant, appId), { redirect: 'manual', headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Permissions requested');
    const form = new URLSearchParams(new URL(authorizeUrl(tenant, appId)).searchParams);
    form.set('login', `ga@${tenant}.example`);
    const signedIn = await fetch(`${entra()}/${tenant}/oauth2/v2.0/authorize`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
      body: form.toString(),
    });
    expect(signedIn.status).toBe(302);
    expect(new URL(signedIn.headers.get('location')!).searchParams.has('code')).toBe(true);
    const again = await redirected(authorizeUrl(tenant, appId, { prompt: 'none' }), cookie);
    expect(again.searchParams.has('code')).toBe(true);
  });
});
