/**
 * `GET /{tenant}/v2.0/.well-known/openid-configuration` and `GET /{tenant}/.well-known/openid-configuration`:
 * the authority metadata of an appliance's tenant in Entra's shape, describing the broker's own endpoints, so
 * that firmware and OpenID clients written against `https://login.microsoftonline.com/{tenant}/…` work by
 * changing only the host. And the `authorization_endpoint` those documents must name.
 *
 * What clients need of it: MSAL reads `{authority}/v2.0/.well-known/openid-configuration` and accepts the
 * answer only when it holds `authorization_endpoint`, `token_endpoint`, `issuer` and `jwks_uri`
 * (AzureAD/microsoft-authentication-library-for-js:lib/msal-common/src/authority/OpenIdConfigResponse.ts);
 * it requires an https authority and, with the broker's host in `knownAuthorities`, asks no instance
 * discovery of Microsoft (Authority.ts `isInKnownAuthorities`); it then replaces the tenant segment of the
 * endpoints with its authority's own (Authority.ts `replaceTenant`), which the token path accepts as it
 * accepts `{tenant}`. Entra's own v2 document has the endpoints under the tenant's id and the issuer
 * `https://login.microsoftonline.com/{tid}/v2.0`; v1 the issuer `https://sts.windows.net/{tid}/`
 * (https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference, `iss`). Here the
 * issuer is on the broker's own origin, as the endpoints are.
 *
 * A tenant the broker does not serve (no record, or offboarded) is answered as Entra answers a tenant it
 * does not know: 400 `invalid_tenant`, AADSTS90002. An anonymous caller thus learns whether a tenant id or a
 * verified domain is one of the vendor's customers (docs/security.md I12).
 * @module
 */
import { DOMAIN_NAME, GUID } from '../ids.js';
import type { Profiles } from '../profiles/profiles.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import { outageOf } from './outage.js';
import type { HttpReply, HttpRequestLike } from './types.js';

export interface OpenIdConfigurationDeps {
  readonly publicUrl: string;
  /** Entra's authority host (e.g. https://login.microsoftonline.com): it signs the tokens the broker hands on. */
  readonly entraAuthorityHost: string;
  readonly profiles: Profiles;
  /** The tenant record by id (the token endpoint's directory: cached, unknown ids remembered briefly). */
  readonly tenantById: (tenantId: string) => Promise<TenantRecord | undefined>;
  /** The tenant record by one of its verified domains. */
  readonly tenantByDomain: (domain: string) => Promise<TenantRecord | undefined>;
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** The metadata of `{tenant}`, v2 (`/v2.0/.well-known/…`) or v1 (`/.well-known/…`). */
export async function openIdConfiguration(
  deps: OpenIdConfigurationDeps,
  request: HttpRequestLike,
  version: 'v1' | 'v2',
): Promise<HttpReply> {
  const name = request.params.tenant ?? '';
  let tid: string | undefined;
  try {
    tid = await servedTenantId(deps, name);
  } catch (err) {
    const outage = outageOf(err);
    if (!outage) throw err;
    return oauthError(
      503,
      'temporarily_unavailable',
      `The broker cannot reach ${outage.service} right now.`,
      {
        'retry-after': String(outage.retryAfterSeconds),
      },
    );
  }
  if (tid === undefined)
    return oauthError(
      400,
      'invalid_tenant',
      `AADSTS90002: Tenant '${name.slice(0, 256)}' not found. This broker serves only the tenants of its customers, named by tenant id, a verified domain, or 'organizations'.`,
      {},
      [90002],
    );
  const base = `${deps.publicUrl}/${tid}`;
  const entra = `${deps.entraAuthorityHost.replace(/\/+$/, '')}/${tid}`;
  const issuerTenant = tid === 'organizations' ? '{tenantid}' : tid;
  const common = {
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
    grant_types_supported: ['client_credentials', 'refresh_token'],
    response_types_supported: [],
    scopes_supported: [...new Set([...deps.profiles.resources.values()].flatMap((r) => r.spellings))],
  };
  const document =
    version === 'v2'
      ? {
          token_endpoint: `${base}/oauth2/v2.0/token`,
          jwks_uri: `${entra}/discovery/v2.0/keys`,
          issuer: `${deps.publicUrl}/${issuerTenant}/v2.0`,
          authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
          ...common,
        }
      : {
          token_endpoint: `${base}/oauth2/token`,
          jwks_uri: `${entra}/discovery/keys`,
          issuer: `${deps.publicUrl}/${issuerTenant}/`,
          authorization_endpoint: `${base}/oauth2/authorize`,
          ...common,
        };
  return {
    status: 200,
    headers: { ...JSON_TYPE, 'cache-control': 'private, max-age=3600' },
    body: JSON.stringify(document),
  };
}

/** `GET /{tenant}/oauth2/v2.0/authorize` and v1: there is no sign-in at the broker. */
export function authorizeEndpoint(): HttpReply {
  return oauthError(
    400,
    'unsupported_response_type',
    'This broker issues tokens to appliances by the client credentials grant only (POST to the token_endpoint); there is no sign-in here.',
  );
}

/** The tenant id the metadata is for: `organizations`, or a tenant the broker serves; undefined otherwise. */
async function servedTenantId(deps: OpenIdConfigurationDeps, name: string): Promise<string | undefined> {
  const lower = name.toLowerCase();
  if (lower === 'organizations') return lower;
  let tenant: TenantRecord | undefined;
  if (GUID.test(lower)) tenant = await deps.tenantById(lower);
  else if (DOMAIN_NAME.test(lower)) tenant = await deps.tenantByDomain(lower);
  return tenant && tenant.status !== 'offboarded' ? tenant.tenantId : undefined;
}

function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
  codes?: readonly number[],
): HttpReply {
  return {
    status,
    headers: { ...JSON_TYPE, 'cache-control': 'no-store', ...headers },
    body: JSON.stringify({ error, error_description: description, ...(codes ? { error_codes: codes } : {}) }),
  };
}
