/**
 * The simulated Microsoft cloud: tenants, app registrations, service principals (consents), users and
 * mailboxes. One World is shared by the Entra ID, Graph and Key Vault simulators running in one process,
 * so that a consent granted through Entra shows up as a service principal in Graph, and a token Entra signs
 * is accepted by Graph and Key Vault. Tests and the sandbox change it through the control surface
 * (simulators/control.ts), never directly.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { SIM_CLOUDS, type SimCloud } from './clouds.js';
import { firstPartyResources, type SimAppRole, type SimResource } from './well-known.js';
import { createVaultState, type SimVault } from '../keyvault/vault-state.js';

export interface SimSecret {
  readonly keyId: string;
  /** Secret text: kept here only because this is a simulator of the service that issued it. */
  readonly value: string;
  readonly expiresAt: number;
}

export interface SimCertificate {
  readonly keyId: string;
  /** base64url SHA-256 thumbprint of the certificate DER (`x5t#S256`). */
  readonly thumbprintSha256: string;
  /** base64url SHA-1 thumbprint (`x5t`), for clients that still send it. */
  readonly thumbprintSha1: string;
  readonly publicKeyPem: string;
  readonly expiresAt: number;
}

/** An application object (app registration), homed in one tenant. */
export interface SimApp {
  readonly appId: string;
  readonly objectId: string;
  displayName: string;
  readonly homeTenantId: string;
  /** AzureADMultipleOrgs when true, AzureADMyOrg otherwise. */
  multitenant: boolean;
  /** "Allow public client flows": the device-code grant may be polled with `client_id` alone. */
  publicClient?: boolean;
  secrets: SimSecret[];
  certificates: SimCertificate[];
  /** Web redirect URIs, matched exactly (FACTS.md §1.4). */
  redirectUris: string[];
  /** App ID URIs of the API this app exposes (e.g. api://{appId}). */
  identifierUris: string[];
  /** App roles this app defines for callers of its API (e.g. Broker.Read). */
  appRoles: SimAppRole[];
  /** Application permissions it asks for, by resource app id: role values. */
  requiredRoles: Record<string, string[]>;
  /**
   * Delegated permissions it asks for (`requiredResourceAccess` entries of type `Scope`), by resource app id:
   * scope values, e.g. Microsoft Graph's `openid`, `profile`, `offline_access`. Admin consent grants exactly
   * these for every user of the tenant. Absent: the registration's delegated permissions are not modelled and
   * the authorize endpoint does not ask for consent to scopes (apps of tests that do not care about them).
   */
  requiredScopes?: Record<string, string[]>;
  /** Manifest accessTokenAcceptedVersion for tokens issued *for* this app's API (1 or 2). */
  accessTokenVersion: 1 | 2;
  /** Manifest `groupMembershipClaims`: 'DirectoryRole' or 'All' puts `wids` in its tokens (FACTS.md §14). */
  groupMembershipClaims?: 'None' | 'DirectoryRole' | 'All';
  /** Optional claims the app asks for in ID tokens (manifest `optionalClaims.idToken`), e.g. `acct` (FACTS.md §14). */
  idTokenOptionalClaims?: string[];
}

/** An enterprise application in a tenant: exists once the app is consented to (or homed) there. */
export interface SimServicePrincipal {
  readonly objectId: string;
  readonly appId: string;
  displayName: string;
  accountEnabled: boolean;
  /** Application permissions granted to this SP, by resource app id: role values. */
  grantedRoles: Record<string, string[]>;
  /** Until this time (ms since epoch) Entra behaves as if the SP had not replicated: AADSTS700016. */
  readyAt: number;
  createdAt: number;
  /** Delegated permission grants (Graph `oAuth2PermissionGrant`); absent in worlds saved before they existed. */
  delegatedGrants?: SimDelegatedGrant[];
  /** App role assignments of a consent that have not replicated yet (SimRoleReplication); absent: none. */
  pendingRoles?: SimPendingRoles;
}

/**
 * Roles granted by a consent that tokens do not carry yet: until `readyAt` (ms since epoch) the app-only tokens of
 * this service principal omit these role values (by resource app id) and, with `withoutOid`, the `oid` claim.
 */
export interface SimPendingRoles {
  readonly readyAt: number;
  readonly roles: Record<string, string[]>;
  readonly withoutOid: boolean;
}

/**
 * How a tenant's consents replicate in parts: the service principal first, its app role assignments `delayMs`
 * later (only the values in `roles`, when given; all of the consent's otherwise), and meanwhile, with
 * `withoutOid`, tokens without `oid`. Seen on real Entra: a token fetched right after admin consent "some times
 * does not contain the permissions required" (microsoftgraph/microsoft-graph-docs#10907; #4765: "my permission
 * scopes are not reflected … If I add retry logic and try 3 to 4 times it works"), and Microsoft's ARO-RP treats a
 * token without `oid` as "an indicator of AAD propagation delay" (FACTS.md §3). Microsoft documents no duration.
 */
export interface SimRoleReplication {
  readonly delayMs: number;
  readonly roles?: readonly string[];
  readonly withoutOid?: boolean;
}

/**
 * A delegated permission grant (Graph `oAuth2PermissionGrant`): `AllPrincipals` from an admin's consent for the
 * whole tenant, `Principal` from one user's own consent (`principalId`, the user's object id).
 */
export interface SimDelegatedGrant {
  readonly consentType: 'AllPrincipals' | 'Principal';
  readonly principalId?: string;
  readonly resourceAppId: string;
  scopes: string[];
}

export interface SimUser {
  readonly objectId: string;
  userPrincipalName: string;
  displayName: string;
  /** Directory role template ids held in this tenant (the `wids` claim). */
  directoryRoles: string[];
  /** A guest (B2B) user: `acct` = 1; their home tenant is `homeTenantId`. */
  guest: boolean;
  readonly homeTenantId: string;
  /** App roles assigned to this user, by app id (e.g. Broker.Admin on the home app). */
  appRoles: Record<string, string[]>;
  /** `accountEnabled: false` (Graph user): no sign-in, no refresh (AADSTS50057). Absent: enabled. */
  accountEnabled?: boolean;
  /**
   * Refresh tokens issued before this time (ms since epoch) are refused with AADSTS50173: Graph's
   * `revokeSignInSessions`, or a password change (https://learn.microsoft.com/graph/api/user-revokesigninsessions).
   */
  tokensValidFrom?: number;
  /** A Conditional Access policy now requires MFA for this user: a refresh gets AADSTS50076. */
  mfaRequired?: boolean;
}

export interface SimMailbox {
  readonly address: string;
  readonly userObjectId: string;
  /** App ids an application access policy (or RBAC scope) denies on this mailbox. */
  deniedAppIds: string[];
  /** Users (object ids) with Full Access to it (Add-MailboxPermission -AccessRights FullAccess): a shared mailbox's. */
  fullAccess?: string[];
  /** Set-CASMailbox -ImapEnabled / -PopEnabled: absent means enabled (Exchange Online's default). */
  imapEnabled?: boolean;
  popEnabled?: boolean;
  /**
   * Set-CASMailbox -SmtpClientAuthenticationDisabled: true or false override the tenant's setting, absent (null)
   * follows it (https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/authenticated-client-smtp-submission).
   */
  smtpClientAuthenticationDisabled?: boolean | null;
}

export interface SimDomain {
  readonly name: string;
  isDefault: boolean;
  readonly isInitial: boolean;
}

export interface SimTenant {
  readonly id: string;
  displayName: string;
  domains: SimDomain[];
  users: SimUser[];
  servicePrincipals: SimServicePrincipal[];
  mailboxes: SimMailbox[];
  /** Exchange Online provisioned: without it, Exchange tokens fail with AADSTS500011. */
  hasExchangeOnline: boolean;
  /** Set-TransportConfig -SmtpClientAuthenticationDisabled (the tenant's default for every mailbox). Absent: false. */
  smtpClientAuthenticationDisabled?: boolean;
  /** How long a consent given on the admin-consent page stays unprovable (AADSTS700016); default 0. */
  consentReplicationDelayMs?: number;
  /** How the roles of a consent given on the admin-consent page arrive after its service principal; default at once. */
  roleReplication?: SimRoleReplication;
  /** Lifetime of authorization codes issued for this tenant; default 600 s (v2-oauth2-auth-code-flow: "about 10 minutes"). */
  authCodeLifetimeSeconds?: number;
  /** Conditional Access sign-in frequency (seconds): older refresh tokens get AADSTS70043. Absent: none. */
  signInFrequencySeconds?: number;
  /**
   * Exchange Online organization config `EwsEnabled` (Set-OrganizationConfig -EwsEnabled: $true, $false or $null
   * "not configured … This value is the default"); absent = null. How EWS treats it: simulators/graph/ews.ts.
   */
  ewsEnabled?: boolean | null;
  /**
   * `EwsAllowedAppIDs` (Set-OrganizationConfig -EwsAllowedAppIDs, one comma-separated string of app ids there; a
   * list here); absent = null (never set).
   */
  ewsAllowedAppIds?: string[] | null;
  /**
   * Service principals registered in Exchange Online (New-ServicePrincipal) and the mailboxes granted to each
   * (Add-MailboxPermission -AccessRights FullAccess, or `all`: an organization-wide grant such as an RBAC role
   * assignment without a scope). Exchange accepts an app-only IMAP/POP/SMTP login only for a registered app and a
   * granted mailbox ("Register service principals in Exchange",
   * https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth).
   * Absent: the sandbox's default, as though exchange-setup.ps1 had been run for every app for every mailbox.
   */
  exchangeServicePrincipals?: SimExchangeServicePrincipal[] | null;
}

export interface SimExchangeServicePrincipal {
  readonly appId: string;
  /** Addresses (lower case) granted to it, or every mailbox. */
  readonly mailboxes: readonly string[] | 'all';
}

export type SimTarget = 'entra' | 'graph' | 'keyvault';

/** A fault the next matching requests to a simulator meet. */
export interface SimFault {
  readonly id: string;
  readonly target: SimTarget;
  /** `status`: answer this status with the service's error body; `throttle`: 429 + Retry-After;
   * `slow`: wait delayMs, then answer normally; `reset`: destroy the connection; `refuse`: stop listening. */
  readonly kind: 'status' | 'throttle' | 'slow' | 'reset' | 'refuse';
  readonly status?: number;
  readonly retryAfterSeconds?: number;
  readonly delayMs?: number;
  /** Only requests whose path contains this text. */
  readonly pathContains?: string;
  /** Only requests whose body contains this text (e.g. `grant_type=client_credentials`). */
  readonly bodyContains?: string;
  /** How many requests it applies to; absent: until cleared. */
  remaining?: number;
}

export class World {
  readonly tenants = new Map<string, SimTenant>();
  readonly apps = new Map<string, SimApp>();
  readonly resources = new Map<string, SimResource>();
  faults: SimFault[] = [];
  /** The Key Vault simulator's vault: secrets, versions, deleted secrets, access policies (keyvault/vault-state.ts). */
  vault: SimVault = createVaultState();
  /**
   * Users' refresh tokens, by the SHA-256 of the token (simulators/entra/refresh-token.ts): kept in the snapshot,
   * so that a grant the broker holds still refreshes after the sandbox restarts, as Entra's would.
   */
  readonly refreshTokens = new Map<string, SimRefreshTokenRecord>();

  /** `cloud`: the Microsoft cloud this world stands for (its issuers and resource URIs). */
  constructor(
    readonly now: () => number = Date.now,
    readonly cloud: SimCloud = SIM_CLOUDS.AzureCloud,
  ) {
    for (const r of firstPartyResources(cloud)) this.addResource(r);
  }

  addResource(resource: SimResource): void {
    this.resources.set(resource.appId, resource);
  }

  /** The resource whose app id or App ID URI is `identifier` (a `.default` scope without the suffix). */
  findResource(identifier: string): SimResource | undefined {
    const id = identifier.replace(/\/+$/, '').toLowerCase();
    for (const r of this.resources.values()) {
      if (r.appId === id || r.identifierUris.some((u) => u.replace(/\/+$/, '').toLowerCase() === id))
        return r;
    }
    for (const app of this.apps.values()) {
      if (app.appId === id || app.identifierUris.some((u) => u.replace(/\/+$/, '').toLowerCase() === id)) {
        return {
          appId: app.appId,
          displayName: app.displayName,
          identifierUris: app.identifierUris,
          appRoles: app.appRoles,
        };
      }
    }
    return undefined;
  }

  /** A tenant by GUID or by one of its domain names (case-insensitive). */
  findTenant(idOrDomain: string): SimTenant | undefined {
    const key = idOrDomain.toLowerCase();
    const byId = this.tenants.get(key);
    if (byId) return byId;
    for (const t of this.tenants.values()) if (t.domains.some((d) => d.name.toLowerCase() === key)) return t;
    return undefined;
  }

  addTenant(init: {
    id?: string;
    displayName: string;
    domains?: string[];
    hasExchangeOnline?: boolean;
  }): SimTenant {
    const id = (init.id ?? randomUUID()).toLowerCase();
    if (this.tenants.has(id)) throw new WorldConflict(`tenant ${id} exists`);
    const slug =
      init.displayName
        .toLowerCase()
        .replace(/[^a-z0-9]/g, '')
        .slice(0, 20) || 'tenant';
    const initial = `${slug}${id.slice(0, 4)}.onmicrosoft.com`;
    const custom = init.domains ?? [];
    const tenant: SimTenant = {
      id,
      displayName: init.displayName,
      domains: [
        { name: initial, isInitial: true, isDefault: custom.length === 0 },
        ...custom.map((name, i) => ({ name: name.toLowerCase(), isInitial: false, isDefault: i === 0 })),
      ],
      users: [],
      servicePrincipals: [],
      mailboxes: [],
      hasExchangeOnline: init.hasExchangeOnline ?? true,
    };
    this.tenants.set(id, tenant);
    return tenant;
  }

  addUser(
    tenant: SimTenant,
    init: {
      userPrincipalName: string;
      displayName?: string;
      directoryRoles?: string[];
      guestFrom?: SimTenant;
      objectId?: string;
    },
  ): SimUser {
    const user: SimUser = {
      objectId: init.objectId ?? randomUUID(),
      userPrincipalName: init.userPrincipalName,
      displayName: init.displayName ?? init.userPrincipalName.split('@')[0]!,
      directoryRoles: [...(init.directoryRoles ?? [])],
      guest: init.guestFrom !== undefined,
      homeTenantId: init.guestFrom?.id ?? tenant.id,
      appRoles: {},
    };
    tenant.users.push(user);
    return user;
  }

  addMailbox(tenant: SimTenant, address: string, deniedAppIds: string[] = []): SimMailbox {
    const existing = tenant.users.find((u) => u.userPrincipalName.toLowerCase() === address.toLowerCase());
    const user = existing ?? this.addUser(tenant, { userPrincipalName: address });
    const mailbox: SimMailbox = { address: address.toLowerCase(), userObjectId: user.objectId, deniedAppIds };
    tenant.mailboxes.push(mailbox);
    return mailbox;
  }

  addApp(init: Partial<SimApp> & { displayName: string; homeTenantId: string }): SimApp {
    const appId = (init.appId ?? randomUUID()).toLowerCase();
    const app: SimApp = {
      appId,
      objectId: init.objectId ?? randomUUID(),
      displayName: init.displayName,
      homeTenantId: init.homeTenantId,
      multitenant: init.multitenant ?? false,
      ...(init.publicClient ? { publicClient: true } : {}),
      secrets: init.secrets ?? [],
      certificates: init.certificates ?? [],
      redirectUris: init.redirectUris ?? [],
      identifierUris: init.identifierUris ?? [],
      appRoles: init.appRoles ?? [],
      requiredRoles: init.requiredRoles ?? {},
      ...(init.requiredScopes ? { requiredScopes: init.requiredScopes } : {}),
      accessTokenVersion: init.accessTokenVersion ?? 1,
      ...(init.groupMembershipClaims ? { groupMembershipClaims: init.groupMembershipClaims } : {}),
      ...(init.idTokenOptionalClaims ? { idTokenOptionalClaims: [...init.idTokenOptionalClaims] } : {}),
    };
    this.apps.set(appId, app);
    const home = this.tenants.get(app.homeTenantId);
    // An app registration gets a service principal in its home tenant at once.
    if (home) this.grantConsent(home, app, app.requiredRoles, 0);
    return app;
  }

  addSecret(app: SimApp, value: string, lifetimeMs = 365 * 86_400_000): SimSecret {
    const secret: SimSecret = { keyId: randomUUID(), value, expiresAt: this.now() + lifetimeMs };
    app.secrets.push(secret);
    return secret;
  }

  /**
   * Admin consent: creates (or updates) the app's service principal with these application permissions, and
   * grants the registration's delegated permissions (`requiredScopes`) for all users of the tenant. With
   * `roleReplication`, the roles reach tokens only `delayMs` after the service principal does.
   */
  grantConsent(
    tenant: SimTenant,
    app: SimApp,
    roles: Record<string, string[]>,
    replicationDelayMs: number,
    roleReplication?: SimRoleReplication,
  ): SimServicePrincipal {
    const sp = this.servicePrincipalFor(tenant, app, replicationDelayMs);
    for (const [resourceAppId, values] of Object.entries(roles)) {
      sp.grantedRoles[resourceAppId] = [...new Set([...(sp.grantedRoles[resourceAppId] ?? []), ...values])];
    }
    if (roleReplication && roleReplication.delayMs > 0) {
      const late = roleReplication.roles ? new Set(roleReplication.roles) : undefined;
      const pending: Record<string, string[]> = {};
      for (const [resourceAppId, values] of Object.entries(roles)) {
        const delayed = late ? values.filter((v) => late.has(v)) : values;
        if (delayed.length) pending[resourceAppId] = delayed;
      }
      sp.pendingRoles = {
        readyAt: Math.max(sp.readyAt, this.now()) + roleReplication.delayMs,
        roles: pending,
        withoutOid: roleReplication.withoutOid === true,
      };
    }
    for (const [resourceAppId, scopes] of Object.entries(app.requiredScopes ?? {}))
      addDelegatedGrant(sp, { consentType: 'AllPrincipals', resourceAppId, scopes });
    return sp;
  }

  /**
   * A user's own consent on the sign-in page: the service principal (created without application permissions
   * if the app had none here) gets a `Principal` grant of these delegated scopes, by resource app id.
   */
  grantUserConsent(
    tenant: SimTenant,
    app: SimApp,
    userObjectId: string,
    scopes: Record<string, string[]>,
  ): SimServicePrincipal {
    const sp = this.servicePrincipalFor(tenant, app, 0);
    for (const [resourceAppId, values] of Object.entries(scopes))
      addDelegatedGrant(sp, {
        consentType: 'Principal',
        principalId: userObjectId,
        resourceAppId,
        scopes: values,
      });
    return sp;
  }

  private servicePrincipalFor(
    tenant: SimTenant,
    app: SimApp,
    replicationDelayMs: number,
  ): SimServicePrincipal {
    let sp = tenant.servicePrincipals.find((s) => s.appId === app.appId);
    const now = this.now();
    if (!sp) {
      sp = {
        objectId: randomUUID(),
        appId: app.appId,
        displayName: app.displayName,
        accountEnabled: true,
        grantedRoles: {},
        readyAt: now + replicationDelayMs,
        createdAt: now,
      };
      tenant.servicePrincipals.push(sp);
    }
    return sp;
  }

  /** Removing the enterprise application: the consent is gone, tokens fail with AADSTS7000229. */
  revokeConsent(tenant: SimTenant, appId: string): boolean {
    const before = tenant.servicePrincipals.length;
    tenant.servicePrincipals = tenant.servicePrincipals.filter((s) => s.appId !== appId);
    return tenant.servicePrincipals.length !== before;
  }

  servicePrincipal(tenant: SimTenant, appId: string): SimServicePrincipal | undefined {
    return tenant.servicePrincipals.find((s) => s.appId === appId);
  }

  /** The state to keep across restarts of the sandbox (plain JSON). */
  snapshot(): WorldSnapshot {
    return {
      version: 1,
      tenants: [...this.tenants.values()],
      apps: [...this.apps.values()],
      vault: this.vault,
      refreshTokens: [...this.refreshTokens],
    };
  }

  /** Replaces tenants, apps and the vault with a snapshot's. */
  restore(snapshot: WorldSnapshot): void {
    if (snapshot.version !== 1 || !Array.isArray(snapshot.tenants) || !Array.isArray(snapshot.apps)) {
      throw new WorldConflict('not a World snapshot of version 1');
    }
    this.tenants.clear();
    this.apps.clear();
    for (const t of snapshot.tenants) this.tenants.set(t.id, t);
    for (const a of snapshot.apps) this.apps.set(a.appId, a);
    this.vault = snapshot.vault;
    this.refreshTokens.clear();
    for (const [key, record] of snapshot.refreshTokens ?? []) this.refreshTokens.set(key, record);
  }

  /** Takes the first fault matching this request, counting it down. */
  takeFault(target: SimTarget, path: string, body = ''): SimFault | undefined {
    const fault = this.faults.find(
      (f) =>
        f.target === target &&
        (!f.pathContains || path.includes(f.pathContains)) &&
        (!f.bodyContains || body.includes(f.bodyContains)),
    );
    if (!fault) return undefined;
    if (fault.remaining !== undefined) {
      fault.remaining -= 1;
      if (fault.remaining <= 0) this.faults = this.faults.filter((f) => f !== fault);
    }
    return fault;
  }
}

/** What `World.snapshot()` writes: everything but faults, which are per run. */
export interface WorldSnapshot {
  readonly version: 1;
  readonly tenants: readonly SimTenant[];
  readonly apps: readonly SimApp[];
  readonly vault: SimVault;
  /** Absent in snapshots written before refresh tokens were kept. */
  readonly refreshTokens?: readonly (readonly [string, SimRefreshTokenRecord])[];
}

/** A refresh token Entra issued, as the simulator keeps it (by its hash; never the token). */
export interface SimRefreshTokenRecord {
  readonly clientId: string;
  readonly tenantId: string;
  readonly userObjectId: string;
  /** The scopes of the sign-in it comes from (carried on to each new refresh token). */
  readonly scopes: readonly string[];
  readonly issuedAt: number;
}

export class WorldConflict extends Error {}

/** Adds scopes to the service principal's grant of that kind (one per consent type, principal and resource). */
function addDelegatedGrant(sp: SimServicePrincipal, grant: SimDelegatedGrant): void {
  const grants = (sp.delegatedGrants ??= []);
  const same = grants.find(
    (g) =>
      g.consentType === grant.consentType &&
      g.principalId === grant.principalId &&
      g.resourceAppId === grant.resourceAppId,
  );
  if (same) same.scopes = [...new Set([...same.scopes, ...grant.scopes])];
  else grants.push({ ...grant, scopes: [...new Set(grant.scopes)] });
}
