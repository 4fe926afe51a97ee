/**
 * Entra ID's v2 authorization endpoint, `/{tenant}/oauth2/v2.0/authorize`, for the OpenID Connect
 * authorization code flow with PKCE (`MicrosoftDocs/entra-docs:docs/identity-platform/v2-oauth2-auth-code-flow.md`,
 * "auth-code doc" below; FACTS.md §14).
 *
 * Named steps, as Entra orders them: problems that make the redirect URI untrustworthy (unknown tenant,
 * client or redirect URI) are shown as Entra's HTML error page and never redirected; protocol problems
 * (response_type, scope, PKCE, prompt) are redirected to the client as `error` + `error_description`.
 * Then the person: a usable session (the `ESTSAUTH` cookie set here or on the admin-consent page)
 * signs in silently; otherwise the sign-in page lists the tenant's users, and its form POSTs back here.
 *
 *   GET  /{tenant}/oauth2/v2.0/authorize   the request; silent answer, error redirect, or the sign-in page
 *   POST /{tenant}/oauth2/v2.0/authorize   the sign-in page's form: `login` (a typed UPN) or `account`
 * @module
 */
import type { SimContext } from '../context.js';
import { parseForm, type SimRequest, type SimResponse, type SimRoute } from '../common/server.js';
import { GRAPH_APP_ID } from '../common/well-known.js';
import type { SimApp, SimServicePrincipal, SimTenant, SimUser } from '../common/world.js';
import { EntraError, describe, escapeHtml, htmlErrorPage, newTrailer } from './errors.js';
import {
  issueCode,
  personOf,
  resolveAccount,
  sessionCookie,
  sessionFrom,
  startSession,
  type SimSession,
} from './sign-in-state.js';
import { consentResourceOf } from './delegated-scopes.js';

const ALIASES = new Set(['common', 'organizations']);
const OIDC_SCOPES = new Set(['openid', 'profile', 'email', 'offline_access']);
const PROMPTS = new Set(['none', 'login', 'select_account', 'consent']);
type ResponseMode = 'query' | 'fragment' | 'form_post';

/** What survives the checks made before anything is redirected. */
interface Client {
  /** The path segment as given, lower case. */
  readonly tenantPath: string;
  /** The named tenant; undefined for `common` / `organizations` (the person's home tenant decides). */
  readonly tenant: SimTenant | undefined;
  readonly app: SimApp;
  readonly redirectUri: string;
  readonly responseMode: ResponseMode;
  readonly state: string | undefined;
}

/** A complete, valid authorization request. */
interface AuthorizeRequest extends Client {
  readonly scopes: readonly string[];
  readonly nonce: string | undefined;
  readonly codeChallenge: string | undefined;
  readonly codeChallengeMethod: 'S256' | 'plain' | undefined;
  readonly prompt: string | undefined;
  readonly loginHint: string | undefined;
  /** The request's own parameters, carried through the sign-in form. */
  readonly params: URLSearchParams;
}

function missing(name: string): EntraError {
  // E-ERR 900144.
  return new EntraError(
    400,
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${name}'.`,
  );
}

/** FACTS.md §1.4 (E-REPLY): exact match, case-sensitive; a URI without a path gets its trailing '/'. */
function redirectMatches(registered: string, given: string): boolean {
  const norm = (u: string): string => {
    try {
      return new URL(u).href;
    } catch {
      return u;
    }
  };
  return norm(registered) === norm(given);
}

/** Step 1: tenant, client and redirect URI. Failures are error pages: nothing may be sent to an unverified URI. */
function validateClient(ctx: SimContext, tenantName: string, params: URLSearchParams): Client {
  const lower = tenantName.toLowerCase();
  const alias = ALIASES.has(lower);
  if (lower === 'consumers')
    // E-ERR 9002332: a work-or-school-only app on the personal-account endpoint.
    throw new EntraError(
      400,
      'invalid_request',
      9002332,
      `Application '${params.get('client_id') ?? ''}' is configured for use by Azure Active Directory users only. Please do not use the /consumers endpoint to serve this request.`,
    );
  const tenant = alias ? undefined : ctx.world.findTenant(lower);
  if (!alias && !tenant)
    // E-ERR 90002 InvalidTenantName.
    throw new EntraError(
      400,
      'invalid_tenant',
      90002,
      `Tenant '${tenantName}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  const clientId = params.get('client_id');
  if (!clientId) throw missing('client_id');
  const app = ctx.world.apps.get(clientId.toLowerCase());
  if (!app || (tenant && !app.multitenant && tenant.id !== app.homeTenantId))
    // E-ERR 700016 UnauthorizedClient_DoesNotMatchRequest.
    throw new EntraError(
      400,
      'unauthorized_client',
      700016,
      `Application with identifier '${clientId}' was not found in the directory '${tenant?.displayName ?? tenantName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  const redirectUri = params.get('redirect_uri');
  // E-ERR 900971 "No reply address provided."
  if (!redirectUri) throw new EntraError(400, 'invalid_request', 900971, 'No reply address provided.');
  if (!app.redirectUris.some((r) => redirectMatches(r, redirectUri)))
    // FACTS.md §1.4 / E-ERR 50011 InvalidReplyTo: an error page, never a redirect.
    throw new EntraError(
      400,
      'invalid_request',
      50011,
      `The redirect URI '${redirectUri}' specified in the request does not match the redirect URIs configured for the application '${app.appId}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this.`,
    );
  const mode = params.get('response_mode') ?? 'query';
  if (mode !== 'query' && mode !== 'fragment' && mode !== 'form_post')
    // E-ERR 70007 UnsupportedResponseMode. Shown as a page here: how Entra answers it is **unverified**.
    throw new EntraError(
      400,
      'invalid_request',
      70007,
      `The application returned an unsupported value of 'response_mode': '${mode}'.`,
    );
  return {
    tenantPath: lower,
    tenant,
    app,
    redirectUri,
    responseMode: mode,
    state: params.get('state') ?? undefined,
  };
}

/** An error for the client, sent to its redirect URI (auth-code doc, "Error response"). */
class RedirectError extends Error {
  constructor(
    readonly error: string,
    readonly aadsts: number | undefined,
    readonly text: string,
  ) {
    super(text);
  }
}

/** Step 2: the protocol parameters. Failures are redirected to the client. */
function validateProtocol(ctx: SimContext, c: Client, params: URLSearchParams): AuthorizeRequest {
  const responseType = params.get('response_type');
  if (!responseType)
    throw new RedirectError(
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'response_type'.",
    );
  // Only the code flow is simulated; the hybrid flow (`code id_token`) needs implicit grant enabled
  // (E-ERR 700054), which no simulated app has.
  if (responseType !== 'code')
    throw new RedirectError(
      'unsupported_response_type',
      700054,
      `response_type '${responseType}' is not enabled for the application.`,
    );
  const scope = params.get('scope');
  if (!scope?.trim())
    throw new RedirectError(
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'scope'.",
    );
  const scopes = scope.split(/\s+/).filter(Boolean);
  for (const s of scopes) {
    if (OIDC_SCOPES.has(s.toLowerCase())) continue;
    const slash = s.lastIndexOf('/');
    const resource = slash > 0 ? ctx.world.findResource(s.slice(0, slash)) : undefined;
    if (!resource || slash === s.length - 1)
      // E-ERR 70011 InvalidScope.
      throw new RedirectError(
        'invalid_scope',
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${s} is not valid.`,
      );
  }
  const codeChallenge = params.get('code_challenge') ?? undefined;
  const methodIn = params.get('code_challenge_method') ?? undefined;
  // Auth-code doc: code_challenge is "Required if code_challenge_method is included"; without a method the
  // challenge "is assumed to be plaintext"; "The Microsoft identity platform supports both plain and S256."
  if (methodIn !== undefined && codeChallenge === undefined)
    throw new RedirectError(
      'invalid_request',
      900144,
      "The request body must contain the following parameter: 'code_challenge'.",
    );
  if (methodIn !== undefined && methodIn !== 'S256' && methodIn !== 'plain')
    // E-ERR 90100 InvalidRequestParameter; Entra's exact answer to an unknown method is **unverified**.
    throw new RedirectError(
      'invalid_request',
      90100,
      "The parameter 'code_challenge_method' is empty or not valid.",
    );
  // RFC 7636 §4.1/§4.2: 43–128 characters; E-ERR 501491 InvalidCodeChallengeMethodInvalidSize.
  if (codeChallenge !== undefined && !/^[A-Za-z0-9\-._~]{43,128}$/.test(codeChallenge))
    throw new RedirectError('invalid_request', 501491, 'Invalid size of Code_Challenge parameter.');
  const prompt = params.get('prompt') ?? undefined;
  if (prompt !== undefined && !PROMPTS.has(prompt))
    // E-ERR 90100; the live text for an unknown prompt value is **unverified**.
    throw new RedirectError('invalid_request', 90100, "The parameter 'prompt' is empty or not valid.");
  return {
    ...c,
    scopes,
    nonce: params.get('nonce') ?? undefined,
    codeChallenge,
    codeChallengeMethod: codeChallenge === undefined ? undefined : methodIn === 'S256' ? 'S256' : 'plain',
    prompt,
    loginHint: params.get('login_hint')?.toLowerCase() ?? undefined,
    params,
  };
}

/** Answers the client by its response_mode (auth-code doc): query or fragment redirect, or a form post. */
function respond(c: Client, values: [string, string][], headers: Record<string, string> = {}): SimResponse {
  const all: [string, string][] = c.state === undefined ? values : [...values, ['state', c.state]];
  const common = { 'cache-control': 'no-store, no-cache', pragma: 'no-cache', ...headers };
  if (c.responseMode === 'form_post') {
    const inputs = all
      .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
      .join('');
    return {
      status: 200,
      headers: { ...common, 'content-type': 'text/html; charset=utf-8' },
      body: `<!DOCTYPE html><html><head><title>Working...</title></head><body onload="document.forms[0].submit()"><form method="POST" name="hiddenform" action="${escapeHtml(c.redirectUri)}">${inputs}<noscript><p>Script is disabled. Click Submit to continue.</p><input type="submit" value="Submit"></noscript></form></body></html>`,
    };
  }
  const url = new URL(c.redirectUri);
  const encoded = new URLSearchParams(all);
  if (c.responseMode === 'fragment') url.hash = encoded.toString();
  else for (const [k, v] of all) url.searchParams.append(k, v);
  return { status: 302, headers: { ...common, location: url.href } };
}

function errorRedirect(c: Client, err: RedirectError, headers?: Record<string, string>): SimResponse {
  return respond(
    c,
    [
      ['error', err.error],
      ['error_description', describe(err.aadsts, err.text, newTrailer())],
    ],
    headers,
  );
}

/** The tenant the person signs in to: the named one, or their home tenant for common/organizations. */
function targetTenant(ctx: SimContext, r: Client, person: { homeTenantId: string }): SimTenant | undefined {
  return r.tenant ?? ctx.world.tenants.get(person.homeTenantId);
}

function userUnauthorized(
  r: Client,
  upn: string,
  person: { homeTenantId: string },
  tenant: SimTenant | undefined,
): EntraError {
  // E-ERR 50020 UserUnauthorized; shown on Entra's own error page ("Sorry, but we're having trouble signing
  // you in." with the AADSTS50020 line: captures in MicrosoftDocs/azure-docs#57031 and nextauthjs/next-auth#7448).
  return new EntraError(
    400,
    'invalid_request',
    50020,
    `User account '${upn}' from identity provider 'https://sts.windows.net/${person.homeTenantId}/' does not exist in tenant '${tenant?.displayName ?? r.tenantPath}' and cannot access the application '${r.app.appId}'(${r.app.displayName}) in that tenant. The account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.`,
  );
}

/** Issues the code and redirects: `code`, then `state` (auth-code doc, "Successful response"). */
function codeRedirect(
  ctx: SimContext,
  r: AuthorizeRequest,
  tenant: SimTenant,
  user: SimUser,
  headers?: Record<string, string>,
): SimResponse {
  const code = issueCode(
    ctx.world,
    {
      clientId: r.app.appId,
      redirectUri: r.redirectUri,
      requestedAt: r.tenantPath,
      tenantId: tenant.id,
      userObjectId: user.objectId,
      scopes: r.scopes,
      nonce: r.nonce,
      codeChallenge: r.codeChallenge,
      codeChallengeMethod: r.codeChallengeMethod,
    },
    tenant,
  );
  return respond(r, [['code', code]], headers);
}

/**
 * The delegated permissions a request asks for, by resource app id: the OpenID Connect scopes are Microsoft
 * Graph's delegated permissions (openid, profile, email, offline_access: FACTS.md §14), `{resource}/{value}`
 * names one of the resource's (or of Graph, for Exchange's legacy protocols), and `{resource}/.default` stands
 * for those the registration lists for it.
 */
function requestedScopes(ctx: SimContext, r: AuthorizeRequest): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const add = (resourceAppId: string, value: string): void => {
    const list = (out[resourceAppId] ??= []);
    if (!list.some((v) => v.toLowerCase() === value.toLowerCase())) list.push(value);
  };
  for (const s of r.scopes) {
    if (OIDC_SCOPES.has(s.toLowerCase())) {
      add(GRAPH_APP_ID, s.toLowerCase());
      continue;
    }
    const slash = s.lastIndexOf('/');
    // validateProtocol has checked that the resource exists.
    const resource = ctx.world.findResource(s.slice(0, slash));
    if (!resource) continue;
    const value = s.slice(slash + 1);
    if (value.toLowerCase() === '.default')
      for (const v of r.app.requiredScopes?.[resource.appId] ?? []) add(resource.appId, v);
    // Exchange's IMAP/POP/SMTP/EWS permissions are consented to as Microsoft Graph's (delegated-scopes.ts).
    else add(consentResourceOf(resource.appId, value), value);
  }
  return out;
}

/**
 * The requested delegated scopes that no grant covers for this user: neither the admin's consent for the
 * tenant (`AllPrincipals`) nor the user's own (`Principal`). Empty for an app whose delegated permissions are
 * not modelled (`requiredScopes` absent, world.ts).
 */
function scopesLackingConsent(
  ctx: SimContext,
  r: AuthorizeRequest,
  sp: SimServicePrincipal,
  user: SimUser | undefined,
): string[] {
  if (r.app.requiredScopes === undefined) return [];
  const lacking: string[] = [];
  for (const [resourceAppId, values] of Object.entries(requestedScopes(ctx, r))) {
    const granted = new Set(
      (sp.delegatedGrants ?? [])
        .filter(
          (g) =>
            g.resourceAppId === resourceAppId &&
            (g.consentType === 'AllPrincipals' || (user !== undefined && g.principalId === user.objectId)),
        )
        .flatMap((g) => g.scopes.map((v) => v.toLowerCase())),
    );
    for (const v of values) if (!granted.has(v.toLowerCase())) lacking.push(v);
  }
  return lacking;
}

/** Why a session cannot sign in silently, as the redirect error prompt=none gets. */
function silentProblem(
  ctx: SimContext,
  r: AuthorizeRequest,
  session: SimSession | undefined,
): RedirectError | { tenant: SimTenant; user: SimUser } {
  // Auth-code doc: login_required = "Too many or no users found"; E-ERR 50058 UserInformationNotProvided
  // ("This error might be returned to the application if prompt=none is specified"); the text is the
  // live one quoted in MicrosoftDocs/azure-docs:articles/active-directory/develop/msal-js-known-issues-ie-edge-browsers.md.
  const noUser = new RedirectError(
    'login_required',
    50058,
    'A silent sign-in request was sent but no user is signed in.',
  );
  if (!session) return noUser;
  const tenant = targetTenant(ctx, r, session);
  const user = tenant ? resolveAccount(tenant, session) : undefined;
  // A login_hint naming someone else than the session's person: no single matching user. Whether Entra
  // answers login_required here is **unverified**.
  if (r.loginHint && r.loginHint !== session.homeUpn && r.loginHint !== user?.userPrincipalName.toLowerCase())
    return noUser;
  if (!tenant || !user)
    // E-ERR 16000 InteractionRequired: "User account … from identity provider … doesn't exist in tenant …"
    // — the prompt=none form of AADSTS50020 (FACTS.md §14).
    return new RedirectError(
      'interaction_required',
      16000,
      `User account '${session.homeUpn}' from identity provider 'https://sts.windows.net/${session.homeTenantId}/' does not exist in tenant '${tenant?.displayName ?? r.tenantPath}' and cannot access the application '${r.app.appId}'(${r.app.displayName}) in that tenant. This account needs to be added as an external user in the tenant first. Sign out and sign in again with a different Azure Active Directory user account.`,
    );
  const notConsented = `The user or administrator has not consented to use the application with ID '${r.app.appId}' named '${r.app.displayName}'. Send an interactive authorization request for this user and resource.`;
  const sp = ctx.world.servicePrincipal(tenant, r.app.appId);
  if (!sp)
    // E-ERR 65001 DelegationDoesNotExist: consent needs the interactive page (auth-code doc: interaction_required).
    return new RedirectError('interaction_required', 65001, notConsented);
  if (scopesLackingConsent(ctx, r, sp, user).length > 0)
    // A delegated scope the app's registration (hence the admin's consent) lacks, e.g. the
    // `offline_access` MSAL always adds, is consented to nowhere: prompt=none gets `consent_required` with
    // AADSTS65001 (E-ERR 65001 DelegationDoesNotExist; OpenID Connect Core §3.1.2.6 consent_required; the
    // redirect `error=consent_required&error_description=AADSTS65001%3a+The+user…` as apps meet it, e.g. the
    // callback tests of public Entra clients: **third-party only**). Without prompt=none the sign-in page asks.
    return new RedirectError('consent_required', 65001, notConsented);
  return { tenant, user };
}

function signInPage(ctx: SimContext, req: SimRequest, r: AuthorizeRequest): SimResponse {
  const carried = [...r.params.entries()].filter(([k]) => k !== 'prompt' && k !== 'login_hint');
  const hidden = carried
    .map(([k, v]) => `<input type="hidden" name="${escapeHtml(k)}" value="${escapeHtml(v)}">`)
    .join('\n');
  const users = r.tenant?.users ?? [];
  const picker = users
    .map(
      (u) =>
        `<label><input type="radio" name="account" value="${escapeHtml(u.userPrincipalName)}"> ${escapeHtml(u.displayName)} (${escapeHtml(u.userPrincipalName)})${u.guest ? ' — guest' : ''}</label><br>`,
    )
    .join('\n');
  const sp = r.tenant ? ctx.world.servicePrincipal(r.tenant, r.app.appId) : undefined;
  const needsConsent =
    r.tenant !== undefined && (!sp || scopesLackingConsent(ctx, r, sp, undefined).length > 0);
  const body = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body>
<main>
<h1>Sign in</h1>
<p>to continue to <strong id="app-name">${escapeHtml(r.app.displayName)}</strong>${r.tenant ? ` in <strong id="tenant-name">${escapeHtml(r.tenant.displayName)}</strong>` : ''}</p>
<form method="post" action="${escapeHtml(req.path)}">
${hidden}
${users.length > 0 ? `<fieldset><legend>Pick an account</legend>\n${picker}\n</fieldset>` : ''}
<label>Or type an account (email, phone, or Skype) <input type="email" name="login" value="${escapeHtml(r.loginHint ?? '')}"></label>
${needsConsent ? '<p id="consent">Permissions requested: sign you in and read your profile. Accepting lets this app use your data as its terms of service say.</p>' : ''}
<button type="submit">Sign in</button>
</form>
</main>
</body></html>`;
  return {
    status: 200,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store, no-cache' },
    body,
  };
}

/** GET: silent sign-in with a usable session, an error redirect for prompt=none, or the sign-in page. */
function authorize(ctx: SimContext, req: SimRequest): SimResponse {
  const c = validateClient(ctx, req.params.tenant!, req.url.searchParams);
  let r: AuthorizeRequest;
  try {
    r = validateProtocol(ctx, c, req.url.searchParams);
  } catch (err) {
    if (err instanceof RedirectError) return errorRedirect(c, err);
    throw err;
  }
  const session = sessionFrom(ctx.world, req.headers.cookie);
  // Auth-code doc: prompt=login / select_account interrupt single sign-on; consent always shows the page.
  if (r.prompt === 'login' || r.prompt === 'select_account' || r.prompt === 'consent')
    return signInPage(ctx, req, r);
  const silent = silentProblem(ctx, r, session);
  if (!(silent instanceof RedirectError)) return codeRedirect(ctx, r, silent.tenant, silent.user);
  // prompt=none "ensures that the user isn't presented with any interactive prompt" (auth-code doc).
  if (r.prompt === 'none') return errorRedirect(r, silent);
  return signInPage(ctx, req, r);
}

/** POST from the sign-in page: the person signs in (session cookie), then is checked against the tenant. */
function signIn(ctx: SimContext, req: SimRequest): SimResponse {
  const form = parseForm(req.body);
  const c = validateClient(ctx, req.params.tenant!, form);
  let r: AuthorizeRequest;
  try {
    r = validateProtocol(ctx, c, form);
  } catch (err) {
    if (err instanceof RedirectError) return errorRedirect(c, err);
    throw err;
  }
  const upn = (form.get('login')?.trim() || form.get('account') || '').toLowerCase();
  if (!upn) throw missing('login');
  // The account picked or typed: a user listed in the named tenant (member or guest), else a member of any tenant.
  let person: { homeTenantId: string; homeUpn: string } | undefined;
  const listed = r.tenant?.users.find((u) => u.userPrincipalName.toLowerCase() === upn);
  if (r.tenant && listed) person = personOf(r.tenant, listed);
  else
    for (const t of ctx.world.tenants.values()) {
      const member = t.users.find((u) => !u.guest && u.userPrincipalName.toLowerCase() === upn);
      if (member) {
        person = personOf(t, member);
        break;
      }
    }
  if (!person)
    // E-ERR 50034 UserAccountNotFound.
    throw new EntraError(
      400,
      'invalid_request',
      50034,
      `The user account ${upn} does not exist in the ${r.tenant?.displayName ?? 'requested'} directory. To sign into this application, the account must be added to the directory.`,
    );
  const cookie = { 'set-cookie': sessionCookie(startSession(ctx.world, person)) };
  const tenant = targetTenant(ctx, r, person);
  const user = tenant ? resolveAccount(tenant, person) : undefined;
  if (!tenant || !user) {
    const page = htmlErrorPage(userUnauthorized(r, upn, person, tenant));
    return { ...page, headers: { ...page.headers, ...cookie } };
  }
  // The page asked for consent to what the request names where no grant covered it; accepting is the user's own
  // consent to those delegated scopes, and creates the service principal (with no application permissions)
  // where the app had none here, as a user's consent to a multitenant app does.
  ctx.world.grantUserConsent(tenant, r.app, user.objectId, requestedScopes(ctx, r));
  return codeRedirect(ctx, r, tenant, user, cookie);
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

export function authorizeRoutes(ctx: SimContext): SimRoute[] {
  const path = '/{tenant}/oauth2/v2.0/authorize';
  return [
    browserRoute('GET', path, (req) => authorize(ctx, req)),
    browserRoute('POST', path, (req) => signIn(ctx, req)),
  ];
}
