/**
 * The control surface of the simulated cloud, for tests and the sandbox walkthrough: add tenants, users
 * and mailboxes, grant and revoke consent (with a replication delay), and inject faults. It is its own
 * HTTPS server so that a `refuse` fault on a simulator does not cut off the way to clear it.
 *
 *   POST   /_sim/tenants                         {id?, displayName, domains?, hasExchangeOnline?}
 *   GET    /_sim/tenants/{tenant}
 *   POST   /_sim/tenants/{tenant}/users          {userPrincipalName, displayName?, directoryRoles?, guestFromTenant?,
 *                                                  appRoles?: {appId: [role values]}}
 *   PATCH  /_sim/tenants/{tenant}/users/{upn}    {accountEnabled?, mfaRequired?, revokeSignInSessions?: true,
 *                                                 deleted?: true}: what makes Entra refuse a user's refresh token
 *                                                 (simulators/entra/refresh-token.ts)
 *   PUT    /_sim/tenants/{tenant}/sign-in-frequency  {seconds | null}: a Conditional Access sign-in frequency
 *   POST   /_sim/tenants/{tenant}/mailboxes      {address, deniedAppIds?, fullAccess?: [upn]} (a shared mailbox's delegates)
 *   PATCH  /_sim/tenants/{tenant}/mailboxes/{address}  {imapEnabled?, popEnabled?, smtpClientAuthenticationDisabled?,
 *                                                 fullAccess?: [upn]}: Set-CASMailbox and Add-/Remove-MailboxPermission,
 *                                                 for the mail stand-ins (simulators/mail/)
 *   PUT    /_sim/tenants/{tenant}/transport-config  {smtpClientAuthenticationDisabled}: Set-TransportConfig
 *   PUT    /_sim/tenants/{tenant}/exchange-service-principals  {servicePrincipals: [{appId, mailboxes: [address] | "all"}]
 *                                                 | null}: New-ServicePrincipal and its mailbox grants; null: the
 *                                                 sandbox's default (every app, every mailbox)
 *   PUT    /_sim/tenants/{tenant}/organization-config  {ewsEnabled?: boolean|null, ewsAllowedAppIds?: string[]|null}:
 *                                                 Exchange Online's EwsEnabled / EwsAllowedAppIDs (simulators/graph/ews.ts)
 *   POST   /_sim/tenants/{tenant}/consents       {appId, roles?: {resourceAppId: [values]}, replicationDelayMs?}
 *   DELETE /_sim/tenants/{tenant}/consents/{appId}
 *   POST   /_sim/vault/keys                      {name}: an RSA key in the vault, as infra/ creates the broker's
 *                                                 envelope key (simulators/keyvault/keys.ts)
 *   POST   /_sim/tokens/app                      {tenant, appId, resource} → {access_token, expires_in}: an app-only
 *                                                 token as Entra would issue it, for tests of Graph / Key Vault
 *   POST   /_sim/faults                          {target, kind, status?, retryAfterSeconds?, delayMs?, pathContains?,
 *                                                 bodyContains?, count?}
 *   DELETE /_sim/faults
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { SimContext } from './context.js';
import { json, type SimResponse, type SimRoute } from './common/server.js';
import type { SimFault, SimTenant } from './common/world.js';
import { WorldConflict } from './common/world.js';
import { issueAppToken } from './common/app-token.js';
import { addKeyVersion } from './keyvault/keys.js';

export function controlErrorBody(status: number, message: string): SimResponse {
  return json(status, { error: { code: status === 404 ? 'NotFound' : 'BadRequest', message } });
}

class BadControlRequest extends Error {}

export function controlRoutes(ctx: SimContext): SimRoute[] {
  const { world } = ctx;
  const tenantOf = (id: string | undefined): SimTenant => {
    const t = id ? world.findTenant(id) : undefined;
    if (!t) throw new NotFound(`no tenant ${id}`);
    return t;
  };
  const route = (
    method: string,
    path: string,
    fn: (p: Record<string, string>, body: Record<string, unknown>) => SimResponse,
  ): SimRoute => ({
    method,
    path,
    handler: (req) => {
      try {
        const body = req.body ? (JSON.parse(req.body) as unknown) : {};
        if (typeof body !== 'object' || body === null || Array.isArray(body))
          throw new BadControlRequest('body must be a JSON object');
        return fn(req.params, body as Record<string, unknown>);
      } catch (err) {
        if (err instanceof NotFound) return controlErrorBody(404, err.message);
        if (err instanceof BadControlRequest || err instanceof SyntaxError || err instanceof WorldConflict)
          return controlErrorBody(400, err.message);
        throw err;
      }
    },
  });

  return [
    route('POST', '/_sim/tenants', (_, b) => {
      const tenant = world.addTenant({
        id: optString(b, 'id'),
        displayName: reqString(b, 'displayName'),
        domains: optStrings(b, 'domains'),
        hasExchangeOnline: typeof b.hasExchangeOnline === 'boolean' ? b.hasExchangeOnline : undefined,
      });
      return json(201, tenant);
    }),
    route('GET', '/_sim/tenants/{tenant}', (p) => json(200, tenantOf(p.tenant))),
    route('POST', '/_sim/tenants/{tenant}/users', (p, b) => {
      const tenant = tenantOf(p.tenant);
      const guestFrom = optString(b, 'guestFromTenant');
      const user = world.addUser(tenant, {
        userPrincipalName: reqString(b, 'userPrincipalName'),
        displayName: optString(b, 'displayName'),
        directoryRoles: optStrings(b, 'directoryRoles'),
        guestFrom: guestFrom ? tenantOf(guestFrom) : undefined,
      });
      // App roles assigned to the user, by app id (Enterprise applications, Users and groups), e.g.
      // {"<home app id>": ["Broker.Read"]}: they reach that app's tokens as `roles`.
      const appRoles = b.appRoles;
      if (appRoles !== undefined) {
        if (typeof appRoles !== 'object' || appRoles === null || Array.isArray(appRoles))
          throw new BadControlRequest('appRoles must be an object of app id to role values');
        for (const [appId, values] of Object.entries(appRoles as Record<string, unknown>)) {
          if (!Array.isArray(values) || !values.every((v) => typeof v === 'string'))
            throw new BadControlRequest(`appRoles.${appId} must be an array of role values`);
          user.appRoles[appId] = [...(values as string[])];
        }
      }
      return json(201, user);
    }),
    route('PATCH', '/_sim/tenants/{tenant}/users/{upn}', (p, b) => {
      const tenant = tenantOf(p.tenant);
      const upn = decodeURIComponent(p.upn ?? '').toLowerCase();
      const user = tenant.users.find((u) => u.userPrincipalName.toLowerCase() === upn);
      if (!user) throw new NotFound(`no user ${upn} in tenant ${tenant.id}`);
      for (const key of ['accountEnabled', 'mfaRequired'] as const) {
        const v = b[key];
        if (v === undefined) continue;
        if (typeof v !== 'boolean') throw new BadControlRequest(`${key} must be a boolean`);
        user[key] = v;
      }
      // Graph's revokeSignInSessions (or a password reset): refresh tokens issued before now stop working.
      if (b.revokeSignInSessions === true) user.tokensValidFrom = world.now();
      if (b.deleted === true) tenant.users.splice(tenant.users.indexOf(user), 1);
      return json(200, user);
    }),
    route('POST', '/_sim/vault/keys', (_, b) => {
      const name = reqString(b, 'name');
      if (!/^[0-9A-Za-z-]{1,127}$/.test(name)) throw new BadControlRequest('name: 1-127 of 0-9, a-z, A-Z, -');
      const version = addKeyVersion(world, name);
      return json(201, { name, version: version.version });
    }),
    route('PUT', '/_sim/tenants/{tenant}/sign-in-frequency', (p, b) => {
      const tenant = tenantOf(p.tenant);
      if (b.seconds === null) delete tenant.signInFrequencySeconds;
      else if (typeof b.seconds === 'number' && b.seconds > 0) tenant.signInFrequencySeconds = b.seconds;
      else throw new BadControlRequest('seconds must be a number > 0, or null');
      return json(200, {
        tenantId: tenant.id,
        signInFrequencySeconds: tenant.signInFrequencySeconds ?? null,
      });
    }),
    route('POST', '/_sim/tenants/{tenant}/mailboxes', (p, b) => {
      const tenant = tenantOf(p.tenant);
      // Full Access for these users (UPNs): what Add-MailboxPermission -AccessRights FullAccess gives.
      const fullAccess = (optStrings(b, 'fullAccess') ?? []).map((upn) => {
        const user = tenant.users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase());
        if (!user) throw new BadControlRequest(`fullAccess: no user ${upn} in the tenant`);
        return user.objectId;
      });
      const mailbox = world.addMailbox(tenant, reqString(b, 'address'), optStrings(b, 'deniedAppIds') ?? []);
      if (fullAccess.length) mailbox.fullAccess = fullAccess;
      return json(201, mailbox);
    }),
    route('PATCH', '/_sim/tenants/{tenant}/mailboxes/{address}', (p, b) => {
      const tenant = tenantOf(p.tenant);
      const address = decodeURIComponent(p.address!).toLowerCase();
      const mailbox = tenant.mailboxes.find((m) => m.address === address);
      if (!mailbox) throw new BadControlRequest(`no mailbox ${address} in the tenant`);
      // Set-CASMailbox -ImapEnabled / -PopEnabled / -SmtpClientAuthenticationDisabled (null: follow the tenant).
      for (const key of ['imapEnabled', 'popEnabled'] as const)
        if (b[key] !== undefined) {
          if (typeof b[key] !== 'boolean') throw new BadControlRequest(`${key} must be true or false`);
          mailbox[key] = b[key];
        }
      if (b.smtpClientAuthenticationDisabled !== undefined) {
        const v = b.smtpClientAuthenticationDisabled;
        if (v !== null && typeof v !== 'boolean')
          throw new BadControlRequest('smtpClientAuthenticationDisabled must be true, false or null');
        mailbox.smtpClientAuthenticationDisabled = v;
      }
      // Add-/Remove-MailboxPermission -AccessRights FullAccess: the users (UPNs) with Full Access now.
      if (b.fullAccess !== undefined)
        mailbox.fullAccess = (optStrings(b, 'fullAccess') ?? []).map((upn) => {
          const user = tenant.users.find((u) => u.userPrincipalName.toLowerCase() === upn.toLowerCase());
          if (!user) throw new BadControlRequest(`fullAccess: no user ${upn} in the tenant`);
          return user.objectId;
        });
      return json(200, mailbox);
    }),
    route('PUT', '/_sim/tenants/{tenant}/transport-config', (p, b) => {
      const tenant = tenantOf(p.tenant);
      // Set-TransportConfig -SmtpClientAuthenticationDisabled: the tenant's default for every mailbox.
      if (typeof b.smtpClientAuthenticationDisabled !== 'boolean')
        throw new BadControlRequest('smtpClientAuthenticationDisabled must be true or false');
      tenant.smtpClientAuthenticationDisabled = b.smtpClientAuthenticationDisabled;
      return json(200, { smtpClientAuthenticationDisabled: tenant.smtpClientAuthenticationDisabled });
    }),
    route('PUT', '/_sim/tenants/{tenant}/exchange-service-principals', (p, b) => {
      const tenant = tenantOf(p.tenant);
      const list = b.servicePrincipals;
      if (list === null) tenant.exchangeServicePrincipals = null;
      else if (!Array.isArray(list)) throw new BadControlRequest('servicePrincipals must be a list or null');
      else
        tenant.exchangeServicePrincipals = list.map((e: unknown) => {
          const entry = (e ?? {}) as Record<string, unknown>;
          const appId = reqString(entry, 'appId').toLowerCase();
          if (entry.mailboxes === 'all') return { appId, mailboxes: 'all' as const };
          const mailboxes = optStrings(entry, 'mailboxes');
          if (!mailboxes) throw new BadControlRequest('mailboxes must be a list of addresses or "all"');
          return { appId, mailboxes: mailboxes.map((m) => m.toLowerCase()) };
        });
      return json(200, { servicePrincipals: tenant.exchangeServicePrincipals ?? null });
    }),
    route('PUT', '/_sim/tenants/{tenant}/organization-config', (p, b) => {
      const tenant = tenantOf(p.tenant);
      if (b.ewsEnabled !== undefined) {
        if (b.ewsEnabled !== null && typeof b.ewsEnabled !== 'boolean')
          throw new BadControlRequest('ewsEnabled must be true, false or null');
        tenant.ewsEnabled = b.ewsEnabled;
      }
      if (b.ewsAllowedAppIds !== undefined)
        tenant.ewsAllowedAppIds =
          b.ewsAllowedAppIds === null ? null : (optStrings(b, 'ewsAllowedAppIds') ?? null);
      return json(200, {
        ewsEnabled: tenant.ewsEnabled ?? null,
        ewsAllowedAppIds: tenant.ewsAllowedAppIds ?? null,
      });
    }),
    route('POST', '/_sim/tenants/{tenant}/consents', (p, b) => {
      const tenant = tenantOf(p.tenant);
      const app = world.apps.get(reqString(b, 'appId').toLowerCase());
      if (!app) throw new NotFound(`no app ${String(b.appId)}`);
      const roles = b.roles === undefined ? app.requiredRoles : (b.roles as Record<string, string[]>);
      if (typeof roles !== 'object' || roles === null) throw new BadControlRequest('roles must be an object');
      const delay = typeof b.replicationDelayMs === 'number' ? b.replicationDelayMs : 0;
      return json(201, world.grantConsent(tenant, app, roles, delay));
    }),
    route('DELETE', '/_sim/tenants/{tenant}/consents/{appId}', (p) =>
      world.revokeConsent(tenantOf(p.tenant), p.appId!.toLowerCase())
        ? { status: 204 }
        : controlErrorBody(404, 'no such consent'),
    ),
    {
      method: 'POST',
      path: '/_sim/tokens/app',
      handler: async (req) => {
        const b = JSON.parse(req.body || '{}') as Record<string, unknown>;
        const tenant = world.findTenant(String(b.tenant));
        const app = world.apps.get(String(b.appId).toLowerCase());
        const audience = String(b.resource ?? '').replace(/\/\.default$/, '');
        const resource = world.findResource(audience);
        const sp = tenant && app ? world.servicePrincipal(tenant, app.appId) : undefined;
        if (!tenant || !app || !resource || !sp)
          return controlErrorBody(404, 'tenant, app, consent or resource not found');
        const token = await issueAppToken(ctx.keys, {
          tenant,
          client: app,
          servicePrincipal: sp,
          resource,
          audience,
          credentialType: 1,
          version: 1,
          cloud: ctx.world.cloud,
          nowMs: world.now(),
        });
        return json(200, {
          token_type: 'Bearer',
          access_token: token.accessToken,
          expires_in: token.expiresIn,
        });
      },
    },
    route('POST', '/_sim/faults', (_, b) => {
      const target = reqString(b, 'target');
      const kind = reqString(b, 'kind');
      if (!['entra', 'graph', 'keyvault'].includes(target))
        throw new BadControlRequest('target: entra, graph or keyvault');
      if (!['status', 'throttle', 'slow', 'reset', 'refuse'].includes(kind))
        throw new BadControlRequest('kind: status, throttle, slow, reset or refuse');
      const fault: SimFault = {
        id: randomUUID(),
        target: target as SimFault['target'],
        kind: kind as SimFault['kind'],
        status: typeof b.status === 'number' ? b.status : undefined,
        retryAfterSeconds: typeof b.retryAfterSeconds === 'number' ? b.retryAfterSeconds : undefined,
        delayMs: typeof b.delayMs === 'number' ? b.delayMs : undefined,
        pathContains: optString(b, 'pathContains'),
        bodyContains: optString(b, 'bodyContains'),
        remaining: typeof b.count === 'number' ? b.count : undefined,
      };
      world.faults.push(fault);
      return json(201, fault);
    }),
    route('DELETE', '/_sim/faults', () => {
      world.faults = [];
      return { status: 204 };
    }),
  ];
}

class NotFound extends Error {}

function reqString(b: Record<string, unknown>, key: string): string {
  const v = b[key];
  if (typeof v !== 'string' || !v) throw new BadControlRequest(`${key} is required`);
  return v;
}
function optString(b: Record<string, unknown>, key: string): string | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BadControlRequest(`${key} must be a string`);
  return v;
}
function optStrings(b: Record<string, unknown>, key: string): string[] | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string'))
    throw new BadControlRequest(`${key} must be an array of strings`);
  return v as string[];
}
