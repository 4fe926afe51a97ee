/**
 * The Entra part of the control surface, for tests and the sandbox:
 *
 *   POST /_sim/apps                                    {displayName, homeTenantId, appId?, multitenant?, publicClient?, redirectUris?,
 *                                                       identifierUris?, appRoles?, requiredRoles?, requiredScopes?,
 *                                                       accessTokenVersion?, groupMembershipClaims?, idTokenOptionalClaims?}
 *                                                      requiredScopes: delegated permissions by resource app id, e.g.
 *                                                       {"00000003-…": ["openid", "profile"]}; absent: not modelled
 *   POST /_sim/apps/{appId}/secrets                    {value?, lifetimeSeconds?} → {keyId, value, expiresAt}
 *   DELETE /_sim/apps/{appId}/secrets/{keyId}
 *   POST /_sim/apps/{appId}/certificates               {certificatePem} → {keyId, thumbprintSha256, thumbprintSha1, expiresAt}
 *   PUT  /_sim/tenants/{tenant}/consent-replication-delay  {delayMs}: consents given on the admin-consent page
 *                                                       stay unprovable (AADSTS700016) this long
 *   PUT  /_sim/tenants/{tenant}/role-replication-delay {delayMs, roles?, withoutOid?}: the app roles of consents
 *                                                       given on the admin-consent page reach tokens delayMs after
 *                                                       the service principal (only `roles`, if named); meanwhile
 *                                                       tokens lack them, and `oid` too with withoutOid (0: off)
 *   PUT  /_sim/tenants/{tenant}/auth-code-lifetime     {seconds}: lifetime of authorization codes issued for the
 *                                                       tenant (default 600; 0 makes codes expire at once: AADSTS70008)
 *   POST /_sim/staff-token                             {user?, roles?, version?, audience?, expiresInSeconds?,
 *                                                       notBeforeOffsetSeconds?, tenant?, appId?} → {access_token}
 *
 * A staff token is what Entra issues to a signed-in vendor employee for the broker's support API (the home
 * app's API, `api://{homeAppId}`), with the app roles assigned to that user (FACTS.md §4.2, E-CLAIMS).
 * @module
 */
import { randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import type { SimContext } from '../context.js';
import { v1Issuer, v2Issuer } from '../common/clouds.js';
import { controlErrorBody } from '../control.js';
import { json, type SimResponse, type SimRoute } from '../common/server.js';
import type { SimApp, SimCertificate, SimTenant } from '../common/world.js';
import { WorldConflict } from '../common/world.js';
import { SANDBOX_IDS } from '../sandbox.js';

class BadRequest extends Error {}
class NotFound extends Error {}

/** Azure CLI's public client id: the app a staff member typically signs in with (`appid` of a user token). */
const AZURE_CLI_APP_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';

type Body = Record<string, unknown>;

function route(
  method: string,
  path: string,
  fn: (p: Record<string, string>, b: Body) => Promise<SimResponse> | SimResponse,
): SimRoute {
  return {
    method,
    path,
    handler: async (req) => {
      try {
        const body: unknown = req.body ? JSON.parse(req.body) : {};
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new BadRequest('body must be a JSON object');
        return await fn(req.params, body as Body);
      } catch (err) {
        if (err instanceof NotFound) return controlErrorBody(404, err.message);
        if (err instanceof BadRequest || err instanceof SyntaxError || err instanceof WorldConflict)
          return controlErrorBody(400, err.message);
        throw err;
      }
    },
  };
}

function str(b: Body, key: string): string | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !v) throw new BadRequest(`${key} must be a non-empty string`);
  return v;
}
function reqStr(b: Body, key: string): string {
  const v = str(b, key);
  if (v === undefined) throw new BadRequest(`${key} is required`);
  return v;
}
function num(b: Body, key: string): number | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new BadRequest(`${key} must be a number`);
  return v;
}
function strs(b: Body, key: string): string[] | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new BadRequest(`${key} must be an array of strings`);
  return v as string[];
}
function roleMap(b: Body, key: string): Record<string, string[]> | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new BadRequest(`${key} must be an object`);
  const out: Record<string, string[]> = {};
  for (const [k, vals] of Object.entries(v)) {
    if (!Array.isArray(vals) || !vals.every((x) => typeof x === 'string'))
      throw new BadRequest(`${key}.${k} must be an array of strings`);
    out[k.toLowerCase()] = vals as string[];
  }
  return out;
}

function publicApp(app: SimApp): Record<string, unknown> {
  return {
    appId: app.appId,
    objectId: app.objectId,
    displayName: app.displayName,
    homeTenantId: app.homeTenantId,
    multitenant: app.multitenant,
    redirectUris: app.redirectUris,
    identifierUris: app.identifierUris,
    appRoles: app.appRoles,
    requiredRoles: app.requiredRoles,
    ...(app.requiredScopes ? { requiredScopes: app.requiredScopes } : {}),
    accessTokenVersion: app.accessTokenVersion,
    groupMembershipClaims: app.groupMembershipClaims ?? 'None',
    idTokenOptionalClaims: app.idTokenOptionalClaims ?? [],
  };
}

/** Thumbprints as Entra reads them from the client assertion header (E-CERT): base64url of SHA-256 / SHA-1. */
function certificateFrom(pem: string): Omit<SimCertificate, 'keyId'> {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new BadRequest('certificatePem is not a PEM certificate');
  }
  const b64url = (hexColons: string): string =>
    Buffer.from(hexColons.replace(/:/g, ''), 'hex').toString('base64url');
  return {
    thumbprintSha256: b64url(cert.fingerprint256),
    thumbprintSha1: b64url(cert.fingerprint),
    publicKeyPem: cert.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    expiresAt: new Date(cert.validTo).getTime(),
  };
}

export function entraControlRoutesFor(ctx: SimContext): SimRoute[] {
  const { world } = ctx;
  const appOf = (id: string | undefined): SimApp => {
    const app = id ? world.apps.get(id.toLowerCase()) : undefined;
    if (!app) throw new NotFound(`no app ${id}`);
    return app;
  };
  const tenantOf = (id: string | undefined): SimTenant => {
    const t = id ? world.findTenant(id) : undefined;
    if (!t) throw new NotFound(`no tenant ${id}`);
    return t;
  };

  return [
    route('POST', '/_sim/apps', (_, b) => {
      const homeTenantId = tenantOf(reqStr(b, 'homeTenantId')).id;
      const appId = str(b, 'appId');
      if (appId && world.apps.has(appId.toLowerCase())) throw new WorldConflict(`app ${appId} exists`);
      const version = num(b, 'accessTokenVersion');
      if (version !== undefined && version !== 1 && version !== 2)
        throw new BadRequest('accessTokenVersion: 1 or 2');
      const groupClaims = str(b, 'groupMembershipClaims');
      if (groupClaims !== undefined && !['None', 'DirectoryRole', 'All'].includes(groupClaims))
        throw new BadRequest('groupMembershipClaims: None, DirectoryRole or All');
      const rolesIn = b.appRoles;
      if (rolesIn !== undefined && !Array.isArray(rolesIn)) throw new BadRequest('appRoles must be an array');
      const app = world.addApp({
        appId,
        displayName: reqStr(b, 'displayName'),
        homeTenantId,
        multitenant: b.multitenant === true,
        ...(b.publicClient === true ? { publicClient: true } : {}),
        redirectUris: strs(b, 'redirectUris'),
        identifierUris: strs(b, 'identifierUris'),
        appRoles: (rolesIn as unknown[] | undefined)?.map((r) => {
          if (typeof r === 'string') return { id: randomUUID(), value: r };
          const o = r as Body;
          return { id: str(o, 'id') ?? randomUUID(), value: reqStr(o, 'value') };
        }),
        requiredRoles: roleMap(b, 'requiredRoles'),
        requiredScopes: roleMap(b, 'requiredScopes'),
        accessTokenVersion: version as 1 | 2 | undefined,
        groupMembershipClaims: groupClaims as SimApp['groupMembershipClaims'],
        idTokenOptionalClaims: strs(b, 'idTokenOptionalClaims'),
      });
      return json(201, publicApp(app));
    }),
    route('POST', '/_sim/apps/{appId}/secrets', (p, b) => {
      const app = appOf(p.appId);
      const value = str(b, 'value') ?? randomBytes(30).toString('base64url');
      // A negative lifetime makes an already expired secret (AADSTS7000222).
      const lifetimeSeconds = num(b, 'lifetimeSeconds') ?? 365 * 86_400;
      const secret = world.addSecret(app, value, lifetimeSeconds * 1000);
      return json(201, {
        keyId: secret.keyId,
        value: secret.value,
        expiresAt: new Date(secret.expiresAt).toISOString(),
      });
    }),
    // Adding a redirect URI to the app registration (Authentication > Redirect URIs in the portal), e.g. for
    // a broker that is reached at a second public URL.
    route('POST', '/_sim/apps/{appId}/redirect-uris', (p, b) => {
      const app = appOf(p.appId);
      const uri = reqStr(b, 'uri');
      if (!/^(https:\/\/|http:\/\/localhost[:/])/.test(uri))
        throw new BadRequest('uri: https, or http://localhost (Entra allows http only for localhost)');
      if (!app.redirectUris.includes(uri)) app.redirectUris.push(uri);
      return json(201, publicApp(app));
    }),
    // Removing a secret from the app registration, as an admin does after rotating it.
    route('DELETE', '/_sim/apps/{appId}/secrets/{keyId}', (p) => {
      const app = appOf(p.appId);
      const before = app.secrets.length;
      app.secrets = app.secrets.filter((s) => s.keyId !== p.keyId);
      if (app.secrets.length === before) throw new NotFound(`no secret ${p.keyId}`);
      return { status: 204 };
    }),
    route('POST', '/_sim/apps/{appId}/certificates', (p, b) => {
      const app = appOf(p.appId);
      const cert: SimCertificate = { keyId: randomUUID(), ...certificateFrom(reqStr(b, 'certificatePem')) };
      app.certificates.push(cert);
      return json(201, {
        keyId: cert.keyId,
        thumbprintSha256: cert.thumbprintSha256,
        thumbprintSha1: cert.thumbprintSha1,
        expiresAt: new Date(cert.expiresAt).toISOString(),
      });
    }),
    route('PUT', '/_sim/tenants/{tenant}/consent-replication-delay', (p, b) => {
      const tenant = tenantOf(p.tenant);
      const delayMs = num(b, 'delayMs');
      if (delayMs === undefined || delayMs < 0) throw new BadRequest('delayMs must be a number >= 0');
      tenant.consentReplicationDelayMs = delayMs;
      return json(200, { tenantId: tenant.id, consentReplicationDelayMs: delayMs });
    }),
    // Replication in parts (world.ts SimRoleReplication; microsoftgraph/microsoft-graph-docs#10907, #4765).
    route('PUT', '/_sim/tenants/{tenant}/role-replication-delay', (p, b) => {
      const tenant = tenantOf(p.tenant);
      const delayMs = num(b, 'delayMs');
      if (delayMs === undefined || delayMs < 0) throw new BadRequest('delayMs must be a number >= 0');
      const roles = strs(b, 'roles');
      const withoutOid = b.withoutOid;
      if (withoutOid !== undefined && typeof withoutOid !== 'boolean')
        throw new BadRequest('withoutOid must be a boolean');
      const roleReplication = {
        delayMs,
        ...(roles ? { roles } : {}),
        ...(withoutOid ? { withoutOid: true } : {}),
      };
      if (delayMs === 0) delete tenant.roleReplication;
      else tenant.roleReplication = roleReplication;
      return json(200, { tenantId: tenant.id, roleReplication });
    }),
    route('PUT', '/_sim/tenants/{tenant}/auth-code-lifetime', (p, b) => {
      const tenant = tenantOf(p.tenant);
      const seconds = num(b, 'seconds');
      if (seconds === undefined || seconds < 0) throw new BadRequest('seconds must be a number >= 0');
      tenant.authCodeLifetimeSeconds = seconds;
      return json(200, { tenantId: tenant.id, authCodeLifetimeSeconds: seconds });
    }),
    route('POST', '/_sim/staff-token', async (_, b) => staffToken(ctx, b, appOf, tenantOf)),
  ];
}

async function staffToken(
  ctx: SimContext,
  b: Body,
  appOf: (id: string | undefined) => SimApp,
  tenantOf: (id: string | undefined) => SimTenant,
): Promise<SimResponse> {
  const app = appOf(str(b, 'appId') ?? SANDBOX_IDS.homeAppId);
  const tenant = tenantOf(str(b, 'tenant') ?? app.homeTenantId);
  const upn = str(b, 'user');
  let user = upn
    ? tenant.users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase())
    : undefined;
  if (upn && !user && tenant.id === app.homeTenantId)
    throw new NotFound(`no user ${upn} in tenant ${tenant.id}`);
  // A user of another tenant (for "wrong tenant" tests) need not be registered: make one up.
  const initial = tenant.domains.find((d) => d.isInitial)?.name ?? 'example.onmicrosoft.com';
  user ??= {
    objectId: randomUUID(),
    userPrincipalName: upn ?? `someone@${initial}`,
    displayName: upn?.split('@')[0] ?? 'Someone',
    directoryRoles: [],
    guest: false,
    homeTenantId: tenant.id,
    appRoles: {},
  };
  const roles = strs(b, 'roles') ?? user.appRoles[app.appId] ?? [];
  const versionIn = num(b, 'version') ?? app.accessTokenVersion;
  if (versionIn !== 1 && versionIn !== 2) throw new BadRequest('version: 1 or 2');
  const now = Math.floor(ctx.world.now() / 1000);
  const nbf = now + (num(b, 'notBeforeOffsetSeconds') ?? 0);
  const exp = now + (num(b, 'expiresInSeconds') ?? 3600 + Math.floor(Math.random() * 1800));
  const common = {
    iat: Math.min(now, nbf),
    nbf,
    exp,
    oid: user.objectId,
    sub: randomBytes(32).toString('base64url'),
    tid: tenant.id,
    name: user.displayName,
    scp: 'access_as_user',
    uti: randomBytes(16).toString('base64url'),
    rh: '0.sim',
    ...(roles.length > 0 ? { roles } : {}),
  };
  // FACTS.md §4.2 / E-CLAIMS: v1 → iss sts.windows.net, aud the App ID URI, appid/appidacr, upn;
  // v2 → iss {cloud's v2 issuer}/{tid}/v2.0, aud the app id GUID, azp/azpacr, preferred_username.
  const claims =
    versionIn === 2
      ? {
          ...common,
          aud: str(b, 'audience') ?? app.appId,
          iss: v2Issuer(ctx.world.cloud, tenant.id),
          azp: AZURE_CLI_APP_ID,
          azpacr: '0',
          preferred_username: user.userPrincipalName,
          ver: '2.0',
        }
      : {
          ...common,
          aud: str(b, 'audience') ?? app.identifierUris[0] ?? `api://${app.appId}`,
          iss: v1Issuer(ctx.world.cloud, tenant.id),
          appid: AZURE_CLI_APP_ID,
          appidacr: '0',
          amr: ['pwd', 'mfa'],
          idp: user.guest ? v1Issuer(ctx.world.cloud, user.homeTenantId) : undefined,
          upn: user.userPrincipalName,
          unique_name: user.userPrincipalName,
          ver: '1.0',
        };
  const header: Record<string, string> = versionIn === 1 ? { x5t: ctx.keys.kid } : {};
  const accessToken = await ctx.keys.sign(JSON.parse(JSON.stringify(claims)) as typeof claims, header);
  return json(200, { token_type: 'Bearer', access_token: accessToken, expires_in: exp - now });
}
