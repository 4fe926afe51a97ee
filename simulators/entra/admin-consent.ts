/**
 * Entra ID's admin-consent endpoints, v2 (`/{tenant}/v2.0/adminconsent`, E-ADMIN) and v1
 * (`/{tenant}/adminconsent`, E-CC). GET checks client_id, redirect_uri and scope, then shows a sign-in and
 * consent page on which a person picks which user of the tenant signs in and approves or denies; the page
 * POSTs back here. Approval by a user whose directory role may grant the app's permissions (FACTS.md §1.5,
 * §14) creates the service principal with the app's required permissions — subject to the tenant's
 * replication delay — and redirects with `admin_consent=True`; anything else redirects with an error.
 * Signing in on this page starts an Entra session (the `ESTSAUTH` cookie, sign-in-state.ts), so that the
 * client's OpenID Connect request that follows is answered silently (authorize.ts).
 * @module
 */
import type { SimContext } from '../context.js';
import { parseForm, type SimRequest, type SimResponse, type SimRoute } from '../common/server.js';
import { DIRECTORY_ROLES, GRAPH_APP_ID } from '../common/well-known.js';
import type { SimApp, SimTenant, SimUser } from '../common/world.js';
import { EntraError, describe, escapeHtml, htmlErrorPage, newTrailer } from './errors.js';
import { personOf, sessionCookie, startSession } from './sign-in-state.js';

type ConsentVersion = 1 | 2;

interface ConsentRequest {
  readonly version: ConsentVersion;
  /** The named tenant, or undefined for `common` / `organizations` (the user's tenant decides). */
  readonly tenant: SimTenant | undefined;
  readonly app: SimApp;
  readonly redirectUri: string;
  readonly scope: string | undefined;
  readonly state: string | undefined;
}

const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);

function missing(name: string): EntraError {
  return new EntraError(
    400,
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${name}'.`,
  );
}

/** E-REPLY / E-CC: v2 matches exactly (case-sensitive path); v1 also allows additional path segments. */
function redirectMatches(registered: string, given: string, version: ConsentVersion): boolean {
  const norm = (u: string): string => {
    try {
      return new URL(u).href; // a URI without a path gets its trailing '/' (E-REPLY)
    } catch {
      return u;
    }
  };
  const r = norm(registered);
  const g = norm(given);
  if (r === g) return true;
  if (version === 1) {
    const base = r.endsWith('/') ? r : `${r}/`;
    return g.startsWith(base) && !g.includes('?') && !g.includes('#');
  }
  return false;
}

/** Checks everything that must hold before Entra will redirect anywhere; failures are HTML error pages. */
function validate(
  ctx: SimContext,
  version: ConsentVersion,
  tenantName: string,
  params: URLSearchParams,
): ConsentRequest {
  const { world } = ctx;
  const lower = tenantName.toLowerCase();
  const alias = lower === 'common' || lower === 'organizations';
  const tenant = alias ? undefined : world.findTenant(lower);
  if (!alias && !tenant)
    throw new EntraError(
      400,
      'invalid_tenant',
      90002,
      `Tenant '${tenantName}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  const clientId = params.get('client_id');
  if (!clientId) throw missing('client_id');
  const app = world.apps.get(clientId.toLowerCase());
  if (!app || (!app.multitenant && (!tenant || tenant.id !== app.homeTenantId)))
    // E-ERR 700016.
    throw new EntraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant?.displayName ?? tenantName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  const redirectUri = params.get('redirect_uri');
  if (!redirectUri) throw missing('redirect_uri');
  if (!app.redirectUris.some((r) => redirectMatches(r, redirectUri, version)))
    // FACTS.md §1.4: mismatch → AADSTS50011 InvalidReplyTo, shown as an error page (never redirected).
    throw new EntraError(
      400,
      'invalid_request',
      50011,
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`,
    );
  return {
    version,
    tenant,
    app,
    redirectUri,
    scope: params.get('scope') ?? undefined,
    state: params.get('state') ?? undefined,
  };
}

/** A redirect to the client with these parameters, in the order Entra writes them, then `state`. */
function redirect(c: ConsentRequest, params: [string, string][]): SimResponse {
  const url = new URL(c.redirectUri);
  for (const [k, v] of params) url.searchParams.append(k, v);
  if (c.state !== undefined) url.searchParams.append('state', c.state);
  return { status: 302, headers: { location: url.href, 'cache-control': 'no-store, no-cache' } };
}

function errorRedirect(
  c: ConsentRequest,
  error: string,
  aadsts: number | undefined,
  text: string,
): SimResponse {
  const description = describe(aadsts, text, newTrailer());
  // E-ADMIN: the v2 error redirect carries admin_consent=True too.
  const head: [string, string][] = c.version === 2 ? [['admin_consent', 'True']] : [];
  return redirect(c, [...head, ['error', error], ['error_description', description]]);
}

/** v2 needs a scope (E-ADMIN); each is an OIDC scope or `{resource}/{permission|.default}` of a known resource. */
function scopeProblem(ctx: SimContext, c: ConsentRequest): SimResponse | undefined {
  if (c.version === 1) return undefined;
  if (c.scope === undefined || !c.scope.trim())
    return errorRedirect(
      c,
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'scope'.",
    );
  for (const s of c.scope.split(/\s+/).filter(Boolean)) {
    if (OIDC_SCOPES.has(s.toLowerCase())) continue;
    const slash = s.lastIndexOf('/');
    const resource = slash > 0 ? ctx.world.findResource(s.slice(0, slash)) : undefined;
    if (!resource || slash === s.length - 1)
      // E-ERR 70011 InvalidScope.
      return errorRedirect(
        c,
        'invalid_scope',
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${s} is not valid.`,
      );
  }
  return undefined;
}

function roleNames(app: SimApp, ctx: SimContext): string[] {
  return Object.entries(app.requiredRoles).flatMap(([resourceAppId, values]) => {
    const resource = ctx.world.resources.get(resourceAppId) ?? ctx.world.findResource(resourceAppId);
    return values.map((v) => `${resource?.displayName ?? resourceAppId}: ${v}`);
  });
}

/** The granted permissions as the success redirect's `scope` lists them: `{resource URI}/{value}`. */
function grantedScope(app: SimApp, ctx: SimContext): string {
  return Object.entries(app.requiredRoles)
    .flatMap(([resourceAppId, values]) => {
      const resource = ctx.world.resources.get(resourceAppId) ?? ctx.world.findResource(resourceAppId);
      const uri = (resource?.identifierUris[0] ?? resourceAppId).replace(/\/+$/, '');
      return values.map((v) => `${uri}/${v}`);
    })
    .join(' ');
}

function consentPage(ctx: SimContext, req: SimRequest, c: ConsentRequest): SimResponse {
  const hidden = (name: string, value: string | undefined): string =>
    value === undefined ? '' : `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;
  const users = c.tenant?.users ?? [];
  const picker = c.tenant
    ? `<fieldset><legend>Pick an account</legend>
${users
  .map(
    (u, i) =>
      `<label><input type="radio" name="user" value="${escapeHtml(u.userPrincipalName)}"${i === 0 ? ' checked' : ''}> ${escapeHtml(u.displayName)} (${escapeHtml(u.userPrincipalName)})</label><br>`,
  )
  .join('\n')}
</fieldset>`
    : `<label>Email, phone, or Skype <input type="email" name="user" required></label>`;
  const permissions = roleNames(c.app, ctx)
    .map((p) => `<li>${escapeHtml(p)}</li>`)
    .join('');
  const body = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Permissions requested</title></head>
<body>
<main>
<h1>Permissions requested</h1>
<p><strong id="app-name">${escapeHtml(c.app.displayName)}</strong> (unverified) wants to be granted these permissions for your organization${c.tenant ? ` <strong id="tenant-name">${escapeHtml(c.tenant.displayName)}</strong>` : ''}:</p>
<ul id="permissions">${permissions}</ul>
<form method="post" action="${escapeHtml(req.path)}">
${hidden('client_id', c.app.appId)}${hidden('redirect_uri', c.redirectUri)}${hidden('scope', c.scope)}${hidden('state', c.state)}
${picker}
<p>Accepting these permissions means that you allow this app to use your organization's data as specified in their terms of service and privacy statement.</p>
<button type="submit" name="decision" value="approve">Approve</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>
</main>
</body></html>`;
  return {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store, no-cache' },
    body,
  };
}

/** FACTS.md §1.5 (E-GRANT): GA / PRA grant anything; CAA / AA anything but Microsoft Graph app roles. */
function mayGrant(user: SimUser, app: SimApp): boolean {
  const roles = new Set(user.directoryRoles);
  if (
    roles.has(DIRECTORY_ROLES.globalAdministrator) ||
    roles.has(DIRECTORY_ROLES.privilegedRoleAdministrator)
  )
    return true;
  if (
    roles.has(DIRECTORY_ROLES.cloudApplicationAdministrator) ||
    roles.has(DIRECTORY_ROLES.applicationAdministrator)
  )
    return (app.requiredRoles[GRAPH_APP_ID] ?? []).length === 0;
  return false;
}

/** The account the person signed in with, in the named tenant or (for common/organizations) its own. */
function signIn(ctx: SimContext, c: ConsentRequest, upn: string): { tenant: SimTenant; user: SimUser } {
  const key = upn.toLowerCase();
  const inTenant = (t: SimTenant): SimUser | undefined =>
    t.users.find((u) => u.userPrincipalName.toLowerCase() === key);
  if (c.tenant) {
    const user = inTenant(c.tenant);
    if (user) return { tenant: c.tenant, user };
    const home = [...ctx.world.tenants.values()].find((t) => inTenant(t) && !inTenant(t)?.guest);
    if (home)
      // E-ERR 50020 UserUnauthorized: an account of another tenant that is not a guest here.
      throw new EntraError(
        400,
        'invalid_request',
        50020,
        `User account '${upn}' from identity provider 'https://sts.windows.net/${home.id}/' does not exist in tenant '${c.tenant.displayName}' and cannot access the application '${c.app.appId}'(${c.app.displayName}) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.`,
      );
  } else {
    for (const t of ctx.world.tenants.values()) {
      const user = inTenant(t);
      if (user && !user.guest) return { tenant: t, user };
    }
  }
  // E-ERR 50034 UserAccountNotFound.
  throw new EntraError(
    400,
    'invalid_request',
    50034,
    `The user account ${upn} does not exist in the ${c.tenant?.displayName ?? 'requested'} directory. To sign into this application, the account must be added to the directory.`,
  );
}

function decide(ctx: SimContext, c: ConsentRequest, form: URLSearchParams): SimResponse {
  const upn = form.get('user');
  if (!upn) throw missing('user');
  const decision = form.get('decision');
  const { tenant, user } = signIn(ctx, c, upn);
  // The person has signed in at Entra: its session cookie lets the next /authorize request be silent.
  const cookie = { 'set-cookie': sessionCookie(startSession(ctx.world, personOf(tenant, user))) };
  const answer = decideFor(ctx, c, tenant, user, decision);
  return { ...answer, headers: { ...answer.headers, ...cookie } };
}

function decideFor(
  ctx: SimContext,
  c: ConsentRequest,
  tenant: SimTenant,
  user: SimUser,
  decision: string | null,
): SimResponse {
  if (decision !== 'approve') {
    // E-ADMIN: v2 cancel → consent_required + AADSTS65004; E-CC: v1 → permission_denied, no AADSTS code.
    return c.version === 2
      ? errorRedirect(
          c,
          'consent_required',
          65004,
          'The resource owner or authorization server denied the request.',
        )
      : redirect(c, [
          ['error', 'permission_denied'],
          ['error_description', 'The admin canceled the request'],
        ]);
  }
  if (!mayGrant(user, c.app))
    // E-ERR 90094 AdminConsentRequired ("The grant requires admin permission." as the live service words it,
    // quoted in pnp/cli-microsoft365#534). That Entra *redirects* with `error=access_denied` here, rather than
    // showing the "Need admin approval" page, is **unverified**; a Cloud Application Administrator asked for
    // Microsoft Graph app roles (E-GRANT) gets the same answer here, also **unverified**.
    return errorRedirect(c, 'access_denied', 90094, 'The grant requires admin permission.');
  ctx.world.grantConsent(
    tenant,
    c.app,
    c.app.requiredRoles,
    tenant.consentReplicationDelayMs ?? 0,
    tenant.roleReplication,
  );
  if (c.version === 1)
    // E-CC: `?tenant=…&state=…&admin_consent=True`.
    return redirect({ ...c, state: undefined }, [
      ['tenant', tenant.id],
      ...(c.state !== undefined ? ([['state', c.state]] as [string, string][]) : []),
      ['admin_consent', 'True'],
    ]);
  // E-ADMIN: `?admin_consent=True&tenant={guid}&scope={granted}&state={state}`.
  return redirect(c, [
    ['admin_consent', 'True'],
    ['tenant', tenant.id],
    ['scope', grantedScope(c.app, ctx)],
  ]);
}

function browserRoute(method: string, path: string, fn: (req: SimRequest) => SimResponse): SimRoute {
  return {
    method,
    path,
    handler: (req) => {
      try {
        return fn(req);
      } catch (err) {
        if (err instanceof EntraError) return htmlErrorPage(err);
        throw err;
      }
    },
  };
}

export function adminConsentRoutes(ctx: SimContext): SimRoute[] {
  const routes: SimRoute[] = [];
  for (const [version, suffix] of [
    [2, '/v2.0/adminconsent'],
    [1, '/adminconsent'],
  ] as const) {
    const path = `/{tenant}${suffix}`;
    routes.push(
      browserRoute('GET', path, (req) => {
        const c = validate(ctx, version, req.params.tenant!, req.url.searchParams);
        return scopeProblem(ctx, c) ?? consentPage(ctx, req, c);
      }),
      browserRoute('POST', path, (req) => {
        const form = parseForm(req.body);
        const c = validate(ctx, version, req.params.tenant!, form);
        return scopeProblem(ctx, c) ?? decide(ctx, c, form);
      }),
    );
  }
  return routes;
}
