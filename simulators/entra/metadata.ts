/**
 * Entra ID's discovery documents: OpenID configuration (v1 and v2, per tenant and for `common` /
 * `organizations` with the `{tenantid}` template), signing keys, and the instance discovery that MSAL and
 * @azure/identity ask for. Every endpoint points at the simulator itself, which stands for
 * https://login.microsoftonline.com (FACTS.md §4.3).
 * @module
 */
import type { SimContext } from '../context.js';
import { v1Issuer, v2Issuer } from '../common/clouds.js';
import { json, type SimRequest, type SimResponse, type SimRoute } from '../common/server.js';
import type { SimTenant } from '../common/world.js';
import { EntraError, oauthErrorResponse } from './errors.js';

/** Tenants named by role rather than id; `{tenantid}` stands in issuers (FACTS.md §4.3). */
const MULTI_TENANT_ALIASES = new Set(['common', 'organizations']);

export function tenantNotFound(name: string): EntraError {
  // E-ERR 90002 InvalidTenantName. Metadata endpoints answer 400 `invalid_tenant`; the text and body are the live
  // ones (an openid-configuration answer quoted in james-gould/azure-keyvault-emulator#324; MSAL for Python treats
  // any 4xx there as "Nonexist tenant": AzureAD/microsoft-authentication-library-for-python:msal/authority.py).
  return new EntraError(
    400,
    'invalid_tenant',
    90002,
    `Tenant '${name}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
  );
}

/** The tenant's GUID, the `{tenantid}` template for common/organizations, or a 90002 refusal. */
function resolveTenantPath(ctx: SimContext, name: string): { tid: string; tenant?: SimTenant } {
  const lower = name.toLowerCase();
  if (MULTI_TENANT_ALIASES.has(lower)) return { tid: lower };
  const tenant = ctx.world.findTenant(lower);
  if (!tenant) throw tenantNotFound(name);
  return { tid: tenant.id, tenant };
}

function v2Configuration(ctx: SimContext, tenantName: string): Record<string, unknown> {
  const base = ctx.urls.entra;
  const { tid, tenant } = resolveTenantPath(ctx, tenantName);
  const issuerTid = tenant ? tid : '{tenantid}';
  // Endpoints carry the tenant GUID (a domain name is resolved), or the alias itself.
  return {
    token_endpoint: `${base}/${tid}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/${tid}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    // Not the simulator's own host: the cloud's issuer, as MSAL's built-in metadata has it (clouds.ts).
    issuer: v2Issuer(ctx.world.cloud, issuerTid),
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${ctx.urls.graph}/oidc/userinfo`,
    authorization_endpoint: `${base}/${tid}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/${tid}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/${tid}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    kerberos_endpoint: `${base}/${tid}/kerberos`,
    tenant_region_scope: tenant ? 'EU' : null,
    cloud_instance_name: new URL(ctx.world.cloud.v2IssuerBase).hostname.replace(/^login\./, ''),
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: new URL(ctx.urls.graph).host,
    rbac_url: 'https://pas.windows.net',
  };
}

function v1Configuration(ctx: SimContext, tenantName: string): Record<string, unknown> {
  const base = ctx.urls.entra;
  const { tid, tenant } = resolveTenantPath(ctx, tenantName);
  const issuerTid = tenant ? tid : '{tenantid}';
  return {
    token_endpoint: `${base}/${tid}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/common/discovery/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'token id_token', 'token'],
    scopes_supported: ['openid'],
    // FACTS.md §4.1: v1 tokens are issued by the cloud's STS (sts.windows.net) whatever host served them.
    issuer: v1Issuer(ctx.world.cloud, issuerTid),
    microsoft_multi_refresh_token: true,
    authorization_endpoint: `${base}/${tid}/oauth2/authorize`,
    device_authorization_endpoint: `${base}/${tid}/oauth2/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/${tid}/oauth2/logout`,
    claims_supported: [
      'sub',
      'iss',
      'cloud_instance_name',
      'cloud_instance_host_name',
      'cloud_graph_host_name',
      'msgraph_host',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'amr',
      'nonce',
      'email',
      'given_name',
      'family_name',
      'nickname',
    ],
    check_session_iframe: `${base}/${tid}/oauth2/checksession`,
    userinfo_endpoint: `${base}/${tid}/openid/userinfo`,
    kerberos_endpoint: `${base}/${tid}/kerberos`,
    tenant_region_scope: tenant ? 'EU' : null,
    cloud_instance_name: new URL(ctx.world.cloud.v2IssuerBase).hostname.replace(/^login\./, ''),
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: new URL(ctx.urls.graph).host,
    rbac_url: 'https://pas.windows.net',
  };
}

/**
 * Instance discovery as MSAL asks for it: `GET https://login.microsoftonline.com/common/discovery/instance
 * ?api-version=1.1&authorization_endpoint={authority}oauth2/v2.0/authorize`
 * (`npm:@azure/msal-common@16.17.0:dist/utils/Constants.mjs` AAD_INSTANCE_DISCOVERY_ENDPT,
 * `dist/authority/Authority.mjs` getCloudDiscoveryMetadataFromNetwork). MSAL needs `tenant_discovery_endpoint`
 * and `metadata` (CloudInstanceDiscoveryResponse.mjs); an unknown host gets `invalid_instance`
 * (E-ERR 50049 NoSuchInstanceForDiscovery), which MSAL turns into `untrusted_authority`.
 * Note: MSAL and @azure/identity send this request to the *hard-coded* Microsoft host, never to a configured
 * authority host, so a client only reaches this route if it is pointed here explicitly.
 */
function instanceDiscovery(ctx: SimContext, req: SimRequest): SimResponse {
  const host = new URL(ctx.urls.entra).host;
  const endpoint = req.url.searchParams.get('authorization_endpoint');
  if (!endpoint)
    // E-ERR 50050 MalformedDiscoveryRequest - Request is malformed.
    throw new EntraError(400, 'invalid_request', 50050, 'Request is malformed.');
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new EntraError(400, 'invalid_request', 50050, 'Request is malformed.');
  }
  if (url.protocol !== 'https:' || url.host.toLowerCase() !== host.toLowerCase())
    throw new EntraError(400, 'invalid_instance', 50049, 'Unknown or invalid instance.');
  const tenant = url.pathname.split('/')[1] || 'common';
  return json(200, {
    tenant_discovery_endpoint: `${ctx.urls.entra}/${tenant}/v2.0/.well-known/openid-configuration`,
    'api-version': req.url.searchParams.get('api-version') ?? '1.1',
    metadata: [{ preferred_network: host, preferred_cache: host, aliases: [host] }],
  });
}

async function keys(ctx: SimContext, tenantName: string, v2: boolean): Promise<SimResponse> {
  const { tid, tenant } = resolveTenantPath(ctx, tenantName);
  const jwk = await ctx.keys.jwk();
  // FACTS.md §4.3: each v2 key carries the `issuer` it signs for.
  const key = v2 ? { ...jwk, issuer: v2Issuer(ctx.world.cloud, tenant ? tid : '{tenantid}') } : { ...jwk };
  return json(200, { keys: [key] }, { 'cache-control': 'max-age=86400, private' });
}

/** Turns a thrown EntraError into Entra's JSON error; anything else is the server layer's 500. */
function jsonRoute(
  method: string,
  path: string,
  fn: (req: SimRequest) => Promise<SimResponse> | SimResponse,
): SimRoute {
  return {
    method,
    path,
    handler: async (req) => {
      try {
        return await fn(req);
      } catch (err) {
        if (err instanceof EntraError) return oauthErrorResponse(err);
        throw err;
      }
    },
  };
}

export function metadataRoutes(ctx: SimContext): SimRoute[] {
  return [
    jsonRoute('GET', '/common/discovery/instance', (req) => instanceDiscovery(ctx, req)),
    jsonRoute('GET', '/{tenant}/discovery/instance', (req) => instanceDiscovery(ctx, req)),
    jsonRoute('GET', '/{tenant}/v2.0/.well-known/openid-configuration', (req) =>
      json(200, v2Configuration(ctx, req.params.tenant!)),
    ),
    jsonRoute('GET', '/{tenant}/.well-known/openid-configuration', (req) =>
      json(200, v1Configuration(ctx, req.params.tenant!)),
    ),
    jsonRoute('GET', '/{tenant}/discovery/v2.0/keys', (req) => keys(ctx, req.params.tenant!, true)),
    jsonRoute('GET', '/{tenant}/discovery/keys', (req) => keys(ctx, req.params.tenant!, false)),
  ];
}

export { jsonRoute };
