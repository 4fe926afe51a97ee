/**
 * Key Vault's challenge authentication and access policies. A request without an acceptable bearer token
 * gets 401 with `WWW-Authenticate: Bearer authorization="{authority}/{tenant}", resource="https://vault.azure.net"`
 * (KV-AUTH, FACTS.md §8.3); the SDK reads the tenant from the `authorization` URL's path and asks for
 * `{resource}/.default` (KV-POL, KV-WWW). A token must be signed by Entra, unexpired, for the Key Vault
 * resource (v1 `aud` https://vault.azure.net, as Entra issues it for that resource), and from the vault's
 * tenant; the caller then needs an access-policy entry with the operation's permission.
 * @module
 */
import type { JWTPayload } from 'jose';
import { v1Issuer, v2Issuer } from '../common/clouds.js';
import type { SimContext } from '../context.js';
import type { SimRequest } from '../common/server.js';
import { KeyVaultError } from './errors.js';
import type { KeyPermission } from './keys.js';
import type { SecretPermission, SimVault } from './vault-state.js';

/** A permission an operation needs: on secrets, or on keys. */
export type VaultPermission =
  | { readonly on: 'secrets'; readonly permission: SecretPermission }
  | { readonly on: 'keys'; readonly permission: KeyPermission };

export interface VaultCaller {
  readonly tenantId: string;
  readonly objectId: string | undefined;
  readonly appId: string | undefined;
  readonly issuer: string;
}

export function challengeHeader(ctx: SimContext, vault: SimVault): string {
  return `Bearer authorization="${ctx.urls.entra}/${vault.tenantId}", resource="${ctx.world.cloud.keyVaultResource}"`;
}

/** Verifies the bearer token; throws a 401 KeyVaultError carrying the challenge otherwise. */
export async function authenticate(ctx: SimContext, vault: SimVault, req: SimRequest): Promise<VaultCaller> {
  const unauthorized = (message: string): KeyVaultError =>
    new KeyVaultError(401, 'Unauthorized', message, undefined, {
      'www-authenticate': challengeHeader(ctx, vault),
    });
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  // Live body for a request without a token: recorded 401s in Azure/azure-sdk-for-js keyvault test
  // recordings ("AKV10000: Request is missing a Bearer or PoP token.").
  if (!match) throw unauthorized('AKV10000: Request is missing a Bearer or PoP token.');
  let claims: JWTPayload;
  try {
    claims = await ctx.keys.verify(match[1]!);
  } catch {
    // Message for a bad or expired token: **unverified** (the live service uses AKV100xx codes).
    throw unauthorized('AKV10000: Request is missing a Bearer or PoP token.');
  }
  const aud = typeof claims.aud === 'string' ? claims.aud : '';
  const resource = ctx.world.cloud.keyVaultResource;
  if (aud.replace(/\/$/, '') !== resource) {
    // Live message quoted in several public write-ups: "AKV10022: Invalid audience. Expected
    // https://vault.azure.net, found: https://management.azure.com/." (third-party only).
    throw unauthorized(`AKV10022: Invalid audience. Expected ${resource}, found: ${aud}.`);
  }
  const issuer = typeof claims.iss === 'string' ? claims.iss : '';
  const tid = typeof claims.tid === 'string' ? claims.tid.toLowerCase() : '';
  const expectedIssuers = [
    v1Issuer(ctx.world.cloud, vault.tenantId),
    v2Issuer(ctx.world.cloud, vault.tenantId),
  ];
  if (tid !== vault.tenantId || !expectedIssuers.includes(issuer)) {
    // "AKV10032: Invalid issuer. Expected one of …, found …" (third-party only; seen for a token from
    // another tenant).
    throw unauthorized(`AKV10032: Invalid issuer. Expected one of ${expectedIssuers[0]}, found ${issuer}.`);
  }
  const appId =
    typeof claims.appid === 'string' ? claims.appid : typeof claims.azp === 'string' ? claims.azp : undefined;
  return {
    tenantId: tid,
    objectId: typeof claims.oid === 'string' ? claims.oid : undefined,
    appId: appId?.toLowerCase(),
    issuer,
  };
}

/**
 * Access policies. Key Vault matches an entry by tenant and object id (plus application id for a
 * "compound identity"); this simulator also accepts an entry that names only the application id, because a
 * service principal's object id is minted when the World is seeded. Denied: 403 Forbidden, inner
 * AccessDenied, message as shown in Microsoft's AKS Key Vault CSI troubleshooting article (third-party copies
 * agree): "The user, group or application 'appid=…;oid=…;iss=…' does not have secrets get permission on key
 * vault '{vault};location={region}'. For help resolving this issue, please see
 * https://go.microsoft.com/fwlink/?linkid=2125287".
 */
export function authorize(vault: SimVault, caller: VaultCaller, needed: VaultPermission): void {
  const { permission } = needed;
  const allowed = vault.accessPolicies.some((p) => {
    if (p.tenantId.toLowerCase() !== caller.tenantId) return false;
    if (
      needed.on === 'secrets'
        ? !p.permissions.includes(needed.permission)
        : !(p.keyPermissions ?? []).includes(needed.permission)
    )
      return false;
    if (p.objectId && p.objectId.toLowerCase() !== caller.objectId?.toLowerCase()) return false;
    if (p.applicationId && p.applicationId.toLowerCase() !== caller.appId) return false;
    return Boolean(p.objectId || p.applicationId);
  });
  if (allowed) return;
  throw new KeyVaultError(
    403,
    'Forbidden',
    `The user, group or application 'appid=${caller.appId ?? ''};oid=${caller.objectId ?? ''};iss=${caller.issuer}' does not have ${needed.on} ${permission} permission on key vault '${vault.name};location=${vault.location}'. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125287`,
    'AccessDenied',
  );
}
