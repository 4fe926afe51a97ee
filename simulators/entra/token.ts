/**
 * Entra ID's token endpoint, v2 (`/{tenant}/oauth2/v2.0/token`, `scope`) and v1 (`/{tenant}/oauth2/token`,
 * `resource`), written as named steps after `panva/node-oidc-provider:lib/actions/token.js`: parse the body,
 * refuse duplicated parameters, check the grant type, resolve the tenant, then hand over to the grant.
 * A grant is one entry in GRANTS: `client_credentials` here, `authorization_code` in authorization-code.ts,
 * `refresh_token` in refresh-token.ts, the device-code grant in device-code.ts.
 * @module
 */
import type { SimContext } from '../context.js';
import { parseForm, type SimRequest, type SimResponse, type SimRoute } from '../common/server.js';
import { issueAppToken } from '../common/app-token.js';
import { EXCHANGE_APP_ID, type SimResource } from '../common/well-known.js';
import type { SimApp, SimTenant } from '../common/world.js';
import { identifyClient, verifyAssertion, verifySecret, type CredentialType } from './client-auth.js';
import { EntraError, oauthErrorResponse } from './errors.js';
import { authorizationCode } from './authorization-code.js';
import { refreshTokenGrant } from './refresh-token.js';
import { deviceCodeGrant } from './device-code.js';

/** 1 = `/oauth2/token` (resource), 2 = `/oauth2/v2.0/token` (scope). */
export type EndpointVersion = 1 | 2;

/** A token request before the grant has resolved the tenant (authorization_code accepts /common too). */
export interface GrantRequest {
  readonly ctx: SimContext;
  readonly req: SimRequest;
  readonly form: URLSearchParams;
  /** The tenant as the path named it (GUID, domain or alias): a client assertion's `aud` may use either. */
  readonly tenantPath: string;
  readonly endpoint: EndpointVersion;
}

export interface TokenRequest extends GrantRequest {
  readonly tenant: SimTenant;
}

type GrantHandler = (t: GrantRequest) => Promise<SimResponse>;

const GRANTS: Record<string, GrantHandler> = {
  client_credentials: (t) => clientCredentials({ ...t, tenant: resolveTenant(t.ctx, t.tenantPath) }),
  authorization_code: authorizationCode,
  refresh_token: refreshTokenGrant,
  'urn:ietf:params:oauth:grant-type:device_code': deviceCodeGrant,
  // As MSAL sends it (msal-common GrantType.DEVICE_CODE_GRANT).
  device_code: deviceCodeGrant,
};

export function missing(name: string): EntraError {
  // E-ERR 900144: "The request body must contain the following parameter: '{name}'."
  return new EntraError(
    400,
    'invalid_request',
    900144,
    `The request body must contain the following parameter: '${name}'.`,
  );
}

/** Entra refuses a parameter given twice. E-ERR lists AADSTS9000411 RequestParameterDuplicate; the text is the live one as commonly quoted (**third-party only**). */
function rejectDuplicates(form: URLSearchParams): void {
  const seen = new Set<string>();
  for (const key of form.keys()) {
    if (seen.has(key))
      throw new EntraError(
        400,
        'invalid_request',
        9000411,
        `The request is not properly formatted. The parameter '${key}' is duplicated.`,
      );
    seen.add(key);
  }
}

export function resolveTenant(ctx: SimContext, name: string): SimTenant {
  const lower = name.toLowerCase();
  if (lower === 'common' || lower === 'consumers')
    // E-ERR 9001023: client credentials need a tenant-specific (or /organizations) endpoint.
    throw new EntraError(
      400,
      'invalid_request',
      9001023,
      'The grant type is not supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.',
    );
  if (lower === 'organizations')
    // E-ERR 50059 MissingTenantRealmAndNoUserInformationProvided: app-only has no user to pick a tenant
    // from. Which of 50059 / 9001023 the live service sends for /organizations is **unverified**.
    throw new EntraError(
      400,
      'invalid_request',
      50059,
      'No tenant-identifying information found in either the request or implied by any provided credentials.',
    );
  const tenant = ctx.world.findTenant(lower);
  // E-ERR 90002 InvalidTenantName (token endpoint: `invalid_request`).
  if (!tenant)
    throw new EntraError(
      400,
      'invalid_request',
      90002,
      `Tenant '${name}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
    );
  return tenant;
}

async function handleToken(
  ctx: SimContext,
  req: SimRequest,
  endpoint: EndpointVersion,
): Promise<SimResponse> {
  const form = parseForm(req.body);
  rejectDuplicates(form);
  const grantType = form.get('grant_type');
  if (!grantType) throw missing('grant_type');
  const grant = GRANTS[grantType];
  // E-ERR 70003 UnsupportedGrantType.
  if (!grant)
    throw new EntraError(
      400,
      'unsupported_grant_type',
      70003,
      `The app requested an unsupported grant type '${grantType}'.`,
    );
  return grant({ ctx, req, form, tenantPath: req.params.tenant!, endpoint });
}

export function appNotFound(appId: string, tenant: SimTenant): EntraError {
  // E-ERR 700016 UnauthorizedClient_DoesNotMatchRequest (HTTP 400, unauthorized_client).
  return new EntraError(
    400,
    'unauthorized_client',
    700016,
    `Application with identifier '${appId}' was not found in the directory '${tenant.displayName}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
  );
}

/** RFC 6749 §4.4 as Entra runs it (E-CC). */
async function clientCredentials(t: TokenRequest): Promise<SimResponse> {
  const { ctx, tenant } = t;
  const { world } = ctx;
  const now = world.now();
  const ident = identifyClient(t.form, headerValue(t.req.headers.authorization));
  if (!ident.clientId) throw missing('client_id');
  const app = world.apps.get(ident.clientId.toLowerCase());
  // A single-tenant app does not exist outside its home tenant.
  if (!app || (!app.multitenant && app.homeTenantId !== tenant.id)) throw appNotFound(ident.clientId, tenant);
  const sp = world.servicePrincipal(tenant, app.appId);
  // FACTS.md §3: right after consent the service principal has not replicated yet → 700016.
  if (sp && sp.readyAt > now) throw appNotFound(app.appId, tenant);

  const credentialType = await authenticate(t, app, ident.credential, now);

  // FACTS.md §3: no enterprise app (service principal) in the tenant = no consent → 7000229, 401.
  if (!sp)
    throw new EntraError(
      401,
      'invalid_client',
      7000229,
      `The client application ${app.appId} is missing service principal in the tenant ${tenant.id}. See instructions here: https://go.microsoft.com/fwlink/?linkid=2225119`,
    );
  // E-ERR 7000112 UnauthorizedClientApplicationDisabled (status/error **unverified**).
  if (!sp.accountEnabled)
    throw new EntraError(
      400,
      'unauthorized_client',
      7000112,
      `Application '${app.appId}'(${app.displayName}) is disabled.`,
    );

  const { resource, audience } = resolveResource(t);
  const resourceApp = world.apps.get(resource.appId);
  const version = resourceApp?.accessTokenVersion === 2 ? 2 : 1;
  const token = await issueAppToken(ctx.keys, {
    tenant,
    client: app,
    servicePrincipal: sp,
    resource,
    audience,
    credentialType,
    version,
    cloud: ctx.world.cloud,
    nowMs: now,
  });
  const headers = { 'cache-control': 'no-store, no-cache', pragma: 'no-cache' };
  if (t.endpoint === 1) {
    // The v1 endpoint answers numbers as strings and names the resource.
    const iat = Math.floor(now / 1000);
    return {
      status: 200,
      headers,
      body: {
        token_type: 'Bearer',
        expires_in: String(token.expiresIn),
        ext_expires_in: String(token.expiresIn),
        expires_on: String(iat + token.expiresIn),
        not_before: String(iat),
        resource: audience,
        access_token: token.accessToken,
      },
    };
  }
  return {
    status: 200,
    headers,
    // E-CC sample; `ext_expires_in` is what the live service adds (FACTS.md §2).
    body: {
      token_type: 'Bearer',
      expires_in: token.expiresIn,
      ext_expires_in: token.expiresIn,
      access_token: token.accessToken,
    },
  };
}

export async function authenticate(
  t: TokenRequest,
  app: SimApp,
  credential: ReturnType<typeof identifyClient>['credential'],
  now: number,
): Promise<CredentialType> {
  switch (credential.kind) {
    case 'none':
      // E-ERR 7000218, HTTP 401 invalid_client.
      throw new EntraError(
        401,
        'invalid_client',
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
      );
    case 'secret':
      verifySecret(app, credential.secret, now);
      return 1;
    case 'assertion': {
      const base = t.ctx.urls.entra;
      const names = [...new Set([t.tenantPath, t.tenant.id, ...t.tenant.domains.map((d) => d.name)])];
      // E-CERT: aud = https://login.microsoftonline.com/{tenantId}/oauth2/v2.0/token; the v1 endpoint is accepted too.
      const audiences = names.flatMap((n) => [`${base}/${n}/oauth2/v2.0/token`, `${base}/${n}/oauth2/token`]);
      await verifyAssertion({ app, audiences, nowMs: now }, app.appId, credential);
      return 2;
    }
  }
}

const RESOURCE_NOT_FOUND = (name: string, tenant: SimTenant): EntraError =>
  // E-ERR 500011 InvalidResourceServicePrincipalNotFound.
  new EntraError(
    400,
    'invalid_resource',
    500011,
    `The resource principal named ${name} was not found in the tenant named ${tenant.displayName}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
  );

/** v2: one `{resource}/.default` scope (E-CC); v1: the `resource` parameter. */
function resolveResource(t: TokenRequest): { resource: SimResource; audience: string } {
  let identifier: string;
  if (t.endpoint === 1) {
    const resource = t.form.get('resource');
    if (!resource) throw missing('resource');
    identifier = resource;
  } else {
    const scope = t.form.get('scope');
    if (scope === null) throw missing('scope');
    const scopes = scope.split(/\s+/).filter(Boolean);
    // E-ERR 70011 InvalidScope.
    if (scopes.length === 0)
      throw new EntraError(
        400,
        'invalid_scope',
        70011,
        "The provided request must include a 'scope' input parameter.",
      );
    for (const s of scopes) {
      if (!s.toLowerCase().endsWith('/.default'))
        // FACTS.md §3: 1002012 for a named scope in client credentials (third-party only).
        throw new EntraError(
          400,
          'invalid_scope',
          1002012,
          `The provided value for scope ${s} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        );
      if (s.length === '/.default'.length)
        throw new EntraError(
          400,
          'invalid_scope',
          70011,
          `The provided value for the input parameter 'scope' is not valid. The scope ${s} is not valid.`,
        );
    }
    const resources = new Set(
      scopes.map((s) => s.slice(0, -'/.default'.length).replace(/\/+$/, '').toLowerCase()),
    );
    if (resources.size > 1)
      // E-ERR 700022 InvalidMultipleResourcesScope.
      throw new EntraError(
        400,
        'invalid_scope',
        700022,
        `The provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scope} is not valid.`,
      );
    identifier = scopes[0]!.slice(0, -'/.default'.length);
  }
  const resource = t.ctx.world.findResource(identifier);
  if (!resource) throw RESOURCE_NOT_FOUND(identifier, t.tenant);
  // FACTS.md §3: Exchange Online not provisioned in the tenant → 500011.
  if (resource.appId === EXCHANGE_APP_ID && !t.tenant.hasExchangeOnline)
    throw RESOURCE_NOT_FOUND(identifier, t.tenant);
  // A third-party API needs its own service principal in the tenant.
  const resourceApp = t.ctx.world.apps.get(resource.appId);
  if (resourceApp && !t.ctx.world.servicePrincipal(t.tenant, resourceApp.appId))
    throw RESOURCE_NOT_FOUND(identifier, t.tenant);
  return { resource, audience: identifier };
}

export function headerValue(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

function tokenRoute(ctx: SimContext, path: string, endpoint: EndpointVersion): SimRoute {
  return {
    method: 'POST',
    path,
    handler: async (req) => {
      // Entra uses the caller's client-request-id as correlation id and echoes it.
      const correlationId = headerValue(req.headers['client-request-id']);
      const echo: Record<string, string> = correlationId ? { 'client-request-id': correlationId } : {};
      try {
        const res = await handleToken(ctx, req, endpoint);
        return { ...res, headers: { ...res.headers, ...echo } };
      } catch (err) {
        if (!(err instanceof EntraError)) throw err;
        const res = oauthErrorResponse(err, correlationId);
        return { ...res, headers: { ...res.headers, ...echo } };
      }
    },
  };
}

export function tokenRoutes(ctx: SimContext): SimRoute[] {
  return [tokenRoute(ctx, '/{tenant}/oauth2/v2.0/token', 2), tokenRoute(ctx, '/{tenant}/oauth2/token', 1)];
}
