/**
 * Access tokens as Entra ID issues them for the client-credentials grant (FACTS.md §4): v1.0 format for
 * Microsoft's own APIs and for APIs whose manifest accepts v1 (`iss` https://sts.windows.net/{tid}/ in the public cloud,
 * `appid`, `appidacr`), v2.0 format where the resource's `accessTokenAcceptedVersion` is 2 (`iss`
 * https://login.microsoftonline.com/{tid}/v2.0 there, `aud` the app id GUID, `azp`, `azpacr`). `roles` holds the application
 * permissions granted to the client's service principal for that resource, and is absent when none are
 * (E-CC: a token without `roles` is possible and proves nothing). Right after a consent that replicates in
 * parts (world.ts `SimRoleReplication`), roles not replicated yet are left out, and `oid` too when asked.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { v1Issuer, v2Issuer, type SimCloud } from './clouds.js';
import type { TokenKeys } from './tokens.js';
import type { SimApp, SimServicePrincipal, SimTenant } from './world.js';
import { GRAPH_APP_ID } from './well-known.js';
import type { SimResource } from './well-known.js';

export interface AppTokenRequest {
  readonly tenant: SimTenant;
  readonly client: SimApp;
  readonly servicePrincipal: SimServicePrincipal;
  readonly resource: SimResource;
  /** The identifier the scope named (without `/.default`): v1 `aud` echoes it. */
  readonly audience: string;
  /** 1 = client secret, 2 = certificate / client assertion (E-CLAIMS `appidacr`). */
  readonly credentialType: 1 | 2;
  /** Token format: 2 only when the resource is an app whose manifest asks for v2 tokens. */
  readonly version: 1 | 2;
  /** The cloud whose issuers the token names (not the simulator's own URL). */
  readonly cloud: SimCloud;
  readonly nowMs: number;
  /** Lifetime in seconds; default random 60–90 minutes (E-AT). */
  readonly lifetimeSeconds?: number;
}

export interface IssuedAppToken {
  readonly accessToken: string;
  readonly expiresIn: number;
}

export async function issueAppToken(keys: TokenKeys, req: AppTokenRequest): Promise<IssuedAppToken> {
  const iat = Math.floor(req.nowMs / 1000);
  const lifetime = req.lifetimeSeconds ?? 3600 + Math.floor(Math.random() * 1800);
  // A consent replicating in parts (world.ts SimRoleReplication): roles, and maybe `oid`, not in tokens yet.
  const pending = req.servicePrincipal.pendingRoles;
  const replicating = pending !== undefined && req.nowMs < pending.readyAt ? pending : undefined;
  const late = new Set(replicating?.roles[req.resource.appId] ?? []);
  const roles = (req.servicePrincipal.grantedRoles[req.resource.appId] ?? []).filter((r) => !late.has(r));
  const common = {
    iat,
    nbf: iat,
    exp: iat + lifetime,
    idtyp: 'app',
    ...(replicating?.withoutOid ? {} : { oid: req.servicePrincipal.objectId }),
    sub: req.servicePrincipal.objectId,
    tid: req.tenant.id,
    uti: randomBytes(16).toString('base64url'),
    rh: '0.sim',
    ...(roles.length > 0 ? { roles } : {}),
  };
  const claims =
    req.version === 2
      ? {
          ...common,
          aud: req.resource.appId,
          iss: v2Issuer(req.cloud, req.tenant.id),
          azp: req.client.appId,
          azpacr: String(req.credentialType),
          ver: '2.0',
        }
      : {
          ...common,
          aud: req.audience,
          iss: v1Issuer(req.cloud, req.tenant.id),
          idp: v1Issuer(req.cloud, req.tenant.id),
          appid: req.client.appId,
          appidacr: String(req.credentialType),
          app_displayname: req.client.displayName,
          ver: '1.0',
        };
  // Graph access tokens carry a `nonce` in the header, which breaks standard signature checks (FACTS.md §4.3).
  const header: Record<string, string> = req.version === 1 ? { x5t: keys.kid } : {};
  if (req.resource.appId === GRAPH_APP_ID) header.nonce = randomUUID();
  return { accessToken: await keys.sign(claims, header), expiresIn: lifetime };
}
