/**
 * What the broker needs from Microsoft Graph, in the broker's words: a tenant's name and verified domains, whether
 * an app has a service principal (enterprise application) there, and whether a mailbox can be opened by the app
 * (FACTS.md §7). One implementation: `createGraphDirectory` in graph-client.ts.
 * @module
 */

/** A customer tenant as its directory describes it. */
export interface Organization {
  readonly displayName: string;
  readonly verifiedDomains: readonly VerifiedDomain[];
}

export interface VerifiedDomain {
  readonly name: string;
  readonly isDefault: boolean;
  /** The `*.onmicrosoft.com` domain the tenant was created with. */
  readonly isInitial: boolean;
}

/** An app's service principal in a tenant: it exists once the app has been consented to there. */
export interface ServicePrincipal {
  /** The object id (the "Enterprise application" id that Exchange's `New-ServicePrincipal -ObjectId` wants). */
  readonly id: string;
  readonly appId: string;
  readonly displayName: string;
  /** False when the customer disabled the enterprise application (tokens then fail: AADSTS7000112). */
  readonly accountEnabled: boolean;
}

/**
 * - `reachable`: Graph opened the mailbox's inbox with the app's token.
 * - `not_found`: no such user in the tenant (`ErrorInvalidUser`), or a user without an Exchange Online mailbox
 *   (`MailboxNotEnabledForRESTAPI`); `code` tells which.
 * - `access_denied`: the app may not open it: no Mail permission granted, or an application access policy / RBAC
 *   scope excludes the mailbox (`ErrorAccessDenied`, FACTS.md §6.4). Graph uses the same code for both; the
 *   token's `roles` tell them apart.
 */
export type MailboxProbeResult = 'reachable' | 'not_found' | 'access_denied';

export interface MailboxProbe {
  readonly result: MailboxProbeResult;
  /** Graph's error code for the two failures (never its message: G-ERR says not to branch on it). */
  readonly code?: string;
}

/**
 * Reads one customer tenant's directory through Microsoft Graph, app-only.
 *
 * Every method: acquires the app's Graph token for `tenantId` through the token function it was built with and
 * lets that function's errors through unchanged; throws {@link GraphUnavailable} when Graph cannot answer now
 * (network, timeout, 5xx, 429) and {@link GraphRefused} for any other refusal; never puts a token in an error.
 */
export interface Directory {
  /** `GET /organization`. Needs Organization.Read.All (or Directory.Read.All). */
  organization(tenantId: string): Promise<Organization>;
  /**
   * The service principal of `appId` in the tenant, or undefined when there is none (the app is not consented
   * there). An app may always read its own; others need Application.Read.All.
   */
  servicePrincipalByAppId(tenantId: string, appId: string): Promise<ServicePrincipal | undefined>;
  /** Opens `address`'s inbox (`GET /users/{address}/mailFolders/inbox`). Needs Mail.Read or Mail.ReadBasic(.All). */
  probeMailbox(tenantId: string, address: string): Promise<MailboxProbe>;
}

/** Graph could not answer now; try again after `retryAfterSeconds` (from Retry-After where Graph sent one). */
export class GraphUnavailable extends Error {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Microsoft Graph is unavailable',
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Graph answered with an error other than unavailability: `status` and Graph's `code` (e.g. Authorization_RequestDenied). */
export class GraphRefused extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}
