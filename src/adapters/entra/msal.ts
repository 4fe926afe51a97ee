/**
 * `EntraTokens` on @azure/msal-node 7: one ConfidentialClientApplication per tenant authority
 * (`${authorityHost}/${tenantId}`; client credentials need a tenant-specific authority, FACTS.md §9), kept in
 * a bounded least-recently-used map (tenant-clients.ts). No MSAL type or error leaves this adapter
 * (msal-errors.ts).
 *
 * The same configuration works against https://login.microsoftonline.com and a stand-in such as the
 * sandbox's Entra simulator:
 * - `knownAuthorities: [authority]`. Without it MSAL validates the authority with instance discovery, and it
 *   sends that request to the hard-coded `https://login.microsoftonline.com/common/discovery/instance`
 *   whatever the configured host (`npm:@azure/msal-common@16.17.0:dist/utils/Constants.mjs`
 *   AAD_INSTANCE_DISCOVERY_ENDPT; `dist/authority/Authority.mjs`), so a non-Microsoft host would be
 *   "untrusted_authority" (or depend on the internet). For login.microsoftonline.com MSAL then uses its
 *   built-in endpoint table and makes no metadata request; for any other host it reads
 *   `{authority}/v2.0/.well-known/openid-configuration` from that host and requires the `issuer` to be on
 *   the same origin (Authority.mjs validateIssuer, rule 1).
 * - our own `networkClient` (msal-network.ts; MSAL 7 uses Node's fetch; FACTS.md §9; ours uses `node:https` with
 *   keep-alive connections shared by all tenants, see `EntraAgents`) so that 429/5xx keep their
 *   `Retry-After` (MSAL's default client drops it and then refuses locally for up to 60 s without saying
 *   why: ThrottlingUtils.mjs), requests time out, and a failed metadata request keeps its cause (MSAL turns
 *   it into a bare `openid_config_error`).
 * - every HTTP request to Entra is measured there (`BrokerMetrics.entraRequest`: duration, outcome, the
 *   AADSTS number of a refusal), so that the figures are those of Entra, not of MSAL's own cache.
 * - one `acquireAppToken` settles within `deadlineMs` (4 s), all its HTTP requests together (authority
 *   metadata, then the token): each request is given only the time left (acquire-deadline.ts). The token
 *   endpoint answers a cold request 503 + Retry-After strictly within 5 s, and the token
 *   cache's own 5 s wait left nothing for the rest of the request (docs/performance.md, "An Entra that
 *   never answers").
 * @module
 */
import { decodeJwt } from 'jose';
import { APP_TOKEN_DEADLINE_MS, acquireDeadline } from './acquire-deadline.js';
import { fromMsalError } from './msal-errors.js';
import { EntraRefused, type AcquireOptions, type AppToken, type EntraTokens } from './port.js';
import { TENANT_PATTERN, createTenantClients, type MsalEntraConfig } from './tenant-clients.js';

function toAppToken(tenantId: string, accessToken: string, expiresOn: Date | null): AppToken {
  const claims = decodeJwt(accessToken);
  const oid = typeof claims.oid === 'string' ? claims.oid : undefined;
  const tid = typeof claims.tid === 'string' ? claims.tid : undefined;
  // FACTS.md §3: a token without `oid` is a sign of directory propagation delay (ARO-RP): not usable yet.
  if (!oid || !tid)
    throw new EntraRefused(undefined, 'incomplete_token', 'Entra ID issued a token without oid/tid');
  // A tenant named by GUID must be the one that issued the token.
  if (/^[0-9a-f-]{36}$/i.test(tenantId) && tid.toLowerCase() !== tenantId.toLowerCase())
    throw new EntraRefused(
      undefined,
      'tenant_mismatch',
      `Entra ID issued a token for tenant ${tid}, not ${tenantId}`,
    );
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const exp = typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : undefined;
  return {
    accessToken,
    expiresOn: expiresOn ?? exp ?? new Date(Date.now() + 3_000_000),
    roles,
    servicePrincipalId: oid,
    tenantId: tid,
  };
}

export function createMsalEntraTokens(config: MsalEntraConfig): EntraTokens {
  const clientFor = createTenantClients(config);
  const deadlineMs = config.deadlineMs ?? APP_TOKEN_DEADLINE_MS;

  return {
    async acquireAppToken(tenantId: string, scope: string, options?: AcquireOptions): Promise<AppToken> {
      if (!TENANT_PATTERN.test(tenantId))
        throw new EntraRefused(undefined, 'invalid_tenant', 'Tenant must be a GUID or a domain name');
      const client = clientFor(tenantId);
      let result;
      try {
        result = await acquireDeadline.run(performance.now() + deadlineMs, () =>
          client.app.acquireTokenByClientCredential({ scopes: [scope], skipCache: options?.fresh === true }),
        );
      } catch (err) {
        throw fromMsalError(err, client.network);
      }
      if (!result?.accessToken)
        throw new EntraRefused(undefined, 'no_token', 'Entra ID returned no access token');
      return toAppToken(tenantId, result.accessToken, result.expiresOn);
    },
  };
}
