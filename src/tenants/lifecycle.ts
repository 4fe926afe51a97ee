/**
 * A customer tenant's lifecycle: every change of a tenant's `status` (SPEC.md `GET /api/tenants/{tenantId}`),
 * decided here and nowhere else. `nextTenant` is a pure function of the record as read (or none), an event (a
 * consent and its proof, a re-proof, a credential change or expiry, offboarding) and the time. It answers with
 * the rule of TRANSITIONS (src/tenants/transitions.ts) that applied and either `'unchanged'` or the record to
 * write with the audit action to write for it (null: none). Callers persist and audit: with TenantStore.replace (conditional on the etag of
 * the record read) where they read one, TenantStore.save for a consent. docs/tenant-lifecycle.md prints the
 * table with the code that raises each event; test/tenants/lifecycle.test.ts walks it, one test per row.
 * @module
 */
import { remediationFor } from './remediation.js';
import {
  nextCheckDelaySeconds,
  REPLICATION_CODES,
  TRANSITIONS,
  VERIFICATION_LIMIT_SECONDS,
  type RuleName,
} from './transitions.js';
import type { AppGrants, TenantError, TenantRecord } from './tenant-store.js';

// The table and its constants are part of this module's face: callers import them from here.
export {
  nextCheckDelaySeconds,
  RECHECKED_STATUSES,
  REPLICATION_CODES,
  TRANSITIONS,
  VERIFICATION_LIMIT_SECONDS,
  type RuleName,
  type TenantAuditAction,
  type TransitionRule,
} from './transitions.js';

/** What the lifecycle reads of a consent proof (src/consent/proof.ts `proveConsent` returns one). */
export type TenantProof =
  | {
      readonly kind: 'proven';
      readonly servicePrincipalId: string;
      readonly grantedRoles: Readonly<Record<string, readonly string[]>>;
      /** What each app proven was granted, by client id; absent: the grants above are the home app's. */
      readonly apps?: Readonly<Record<string, AppGrants>>;
      /** The home app's client id: whose grants a record written before bundles holds (tenant-store.ts `grantsOf`). */
      readonly homeApp?: string;
      /** Bundles whose app's consent was found removed while another's holds (src/consent/proof.ts). */
      readonly removed?: readonly {
        readonly bundle: string;
        readonly title: string;
        readonly code: string;
      }[];
      readonly missingRoles: Readonly<Record<string, readonly string[]>>;
      readonly displayName: string | null;
      readonly verifiedDomains: readonly string[];
    }
  | {
      readonly kind: 'unprovable';
      readonly code: string;
      readonly message: string;
      readonly retryAfterSeconds: number;
    }
  | { readonly kind: 'refused'; readonly code: string; readonly message: string };

/** An admin's consent through an onboarding (src/consent/flow.ts `signinCallback`). */
export interface ConsentGiven {
  readonly tenantId: string;
  readonly onboardingId: string;
  readonly customerRef: string;
  readonly profiles: readonly string[];
  readonly consentedBy: { readonly objectId: string; readonly displayName: string };
}

export type ConsentEvent = {
  readonly kind: 'consent';
  readonly consent: ConsentGiven;
  readonly proof: TenantProof;
};

export type TenantEvent =
  | ConsentEvent
  /** The background proof of a `pending_verification` tenant (src/consent/flow.ts `reverifyPendingConsents`). */
  | VerificationEvent
  /** A fresh proof of a tenant proven before: the re-check timer, a support check, a refused token refresh. */
  | { readonly kind: 'recheck'; readonly proof: TenantProof }
  /** The proof right after `PUT` (set) or `DELETE` (removed) of the tenant's own app credential. */
  | { readonly kind: 'credential_set' | 'credential_removed'; readonly proof: TenantProof }
  /** The daily expiry timer: the tenant's own app credential ends within 30 days, or has ended. */
  | { readonly kind: 'credential_expiring' | 'credential_expired' }
  | OffboardingEvent;
export type OffboardingEvent = { readonly kind: 'offboarding' };

/** A change to write: the next record and the audit action its rule writes with it (null: none). */
export type TenantChange<R extends RuleName = RuleName> = R extends RuleName
  ? { readonly rule: R; readonly next: TenantRecord; readonly audit: (typeof TRANSITIONS)[R]['audit'] }
  : never;
type ConsentRule = 'consent-refused' | 'consent-unprovable' | 'consent-proven';
type VerificationRule =
  'verification-proven' | 'verification-refused' | 'verification-timeout' | 'verification-retry';
export type VerificationEvent = { readonly kind: 'verification'; readonly proof: TenantProof };
export type Transition = TenantChange | { readonly rule: RuleName; readonly next: 'unchanged' };

/** The tenant after `event` at `now`, and what to audit. A consent needs no record; every other event does. */
export function nextTenant(
  current: TenantRecord | undefined,
  event: ConsentEvent,
  now: Date,
): TenantChange<ConsentRule>;
export function nextTenant(
  current: TenantRecord,
  event: VerificationEvent,
  now: Date,
): TenantChange<VerificationRule>;
export function nextTenant(
  current: TenantRecord,
  event: OffboardingEvent,
  now: Date,
): TenantChange<'offboarding'>;
export function nextTenant(current: TenantRecord, event: TenantEvent, now: Date): Transition;
export function nextTenant(current: TenantRecord | undefined, event: TenantEvent, now: Date): Transition {
  if (event.kind === 'consent') return onConsent(current, event.consent, event.proof, now);
  const tenant = current!;
  switch (event.kind) {
    case 'verification':
      return onVerification(tenant, event.proof, now);
    case 'recheck':
      return onRecheck(tenant, event.proof, now);
    case 'credential_set':
    case 'credential_removed':
      return onCredentialChange(tenant, event.kind, event.proof, now);
    case 'credential_expiring':
    case 'credential_expired':
      return onExpiry(tenant, event.kind === 'credential_expired', now);
    case 'offboarding':
      return change('offboarding', {
        ...tenant,
        status: 'offboarded',
        verification: null,
        lastError: null,
      });
  }
}

/**
 * A tenant whose own app credential ("bring your own app") has expired: only a new credential (`PUT
 * …/app-credential`, src/http/app-credential-api.ts) makes it usable again, never a proof, which may pass for
 * a while after the expiry (Entra's own clock, cached tokens) and would re-activate a tenant whose tokens
 * are about to fail. The one rule for the timer, a support check and a re-proof.
 */
export function awaitsNewCredential(tenant: TenantRecord, now: Date): boolean {
  const credential = tenant.appCredential;
  return (
    tenant.status === 'error' &&
    (tenant.lastError?.code === 'credential_expired' ||
      (!!credential && Date.parse(credential.expiresOn) <= now.getTime()))
  );
}

/**
 * A tenant the broker knows nothing of yet beyond its id: what a new record starts from, `pending_verification`
 * until a proof says more (`PUT …/app-credential` of a tenant that never consented through a link).
 */
export function newTenantRecord(tenantId: string): TenantRecord {
  return {
    tenantId,
    status: 'pending_verification',
    displayName: null,
    verifiedDomains: [],
    customerRefs: [],
    consentedAt: null,
    grantedRoles: {},
    missingRoles: {},
    lastTokenAt: null,
    lastError: null,
    servicePrincipalId: null,
    consentedBy: null,
    profiles: [],
    verification: null,
    appCredential: null,
  };
}

/** A tenant as a proof shows it: `degraded` when a requested role is missing, else `active`. */
export function provenTenant(
  base: TenantRecord,
  proof: Extract<TenantProof, { kind: 'proven' }>,
  now: Date,
): TenantRecord {
  // The apps this proof did not look at keep what was known of them (a consent through one bundle leaves the
  // others' grants as they were); a record from before bundles holds the home app's at its top level.
  const before =
    base.apps ??
    (proof.homeApp && base.servicePrincipalId
      ? { [proof.homeApp]: { grantedRoles: base.grantedRoles, servicePrincipalId: base.servicePrincipalId } }
      : {});
  const apps = proof.apps ? { ...before, ...proof.apps } : undefined;
  const union = (all: readonly AppGrants[]) => {
    const roles: Record<string, string[]> = {};
    for (const a of all)
      for (const [scope, values] of Object.entries(a.grantedRoles))
        roles[scope] = [...new Set([...(roles[scope] ?? []), ...values])].sort();
    return roles;
  };
  return {
    ...base,
    status: Object.keys(proof.missingRoles).length ? 'degraded' : 'active',
    displayName: proof.displayName ?? base.displayName,
    verifiedDomains: proof.verifiedDomains.length ? proof.verifiedDomains : base.verifiedDomains,
    grantedRoles: apps ? union(Object.values(apps)) : proof.grantedRoles,
    ...(apps ? { apps } : {}),
    missingRoles: proof.missingRoles,
    servicePrincipalId:
      (proof.homeApp ? apps?.[proof.homeApp]?.servicePrincipalId : undefined) ?? proof.servicePrincipalId,
    // One bundle's consent removed: the tenant says which, with the remediation of Entra's code; the others'
    // profiles keep working (their grants stand), that bundle's are missing.
    lastError: proof.removed?.length
      ? lastErrorFor(
          proof.removed[0]!.code,
          `The consent to ${proof.removed.map((r) => `the app of bundle "${r.bundle}" (${r.title})`).join(' and ')} was removed in the tenant: its profiles get no tokens until an admin consents again.`,
          now,
        )
      : null,
    verification: null,
  };
}

/** A tenant's `lastError` for an Entra code (or the broker's own), with its remediation (remediation.ts). */
export function lastErrorFor(code: string, message: string, at: Date): TenantError {
  return { code, message, at: at.toISOString(), remediation: remediationFor(code) };
}

/** The rule's record to write, audited as its row says. */
const change = <R extends RuleName>(rule: R, next: TenantRecord): TenantChange<R> =>
  ({ rule, next, audit: TRANSITIONS[rule].audit }) as TenantChange<R>;
const unchanged = (rule: RuleName): Transition => ({ rule, next: 'unchanged' });
const consentMissing = (proof: TenantProof) =>
  proof.kind === 'unprovable' && REPLICATION_CODES.has(proof.code.replace(/^AADSTS/, ''));

function onConsent(
  existing: TenantRecord | undefined,
  consent: ConsentGiven,
  proof: TenantProof,
  now: Date,
): TenantChange<ConsentRule> {
  const base: TenantRecord = {
    tenantId: consent.tenantId,
    status: 'pending_verification',
    displayName: existing?.displayName ?? null,
    verifiedDomains: existing?.verifiedDomains ?? [],
    customerRefs: [...new Set([...(existing?.customerRefs ?? []), consent.customerRef])],
    consentedAt: now.toISOString(),
    grantedRoles: existing?.grantedRoles ?? {},
    missingRoles: existing?.missingRoles ?? {},
    lastTokenAt: existing?.lastTokenAt ?? null,
    lastError: null,
    servicePrincipalId: existing?.servicePrincipalId ?? null,
    consentedBy: consent.consentedBy,
    profiles: [...new Set([...(existing?.profiles ?? []), ...consent.profiles])],
    verification: null,
    appCredential: existing?.appCredential ?? null,
    ...(existing?.apps ? { apps: existing.apps } : {}),
  };
  if (proof.kind === 'refused')
    return change('consent-refused', {
      ...base,
      status: 'error',
      lastError: lastErrorFor(proof.code, proof.message, now),
    });
  if (proof.kind === 'unprovable')
    return change('consent-unprovable', {
      ...base,
      status: 'pending_verification',
      verification: {
        since: now.toISOString(),
        attempts: 0,
        nextCheckAt: new Date(now.getTime() + proof.retryAfterSeconds * 1000).toISOString(),
        onboardingId: consent.onboardingId,
      },
    });
  return change('consent-proven', provenTenant(base, proof, now));
}

function onVerification(tenant: TenantRecord, proof: TenantProof, now: Date): TenantChange<VerificationRule> {
  const verification = tenant.verification!;
  if (proof.kind === 'proven') return change('verification-proven', provenTenant(tenant, proof, now));
  const elapsed = (now.getTime() - Date.parse(verification.since)) / 1000;
  if (proof.kind === 'refused' || elapsed >= VERIFICATION_LIMIT_SECONDS) {
    const [rule, code, message] =
      proof.kind === 'refused'
        ? (['verification-refused', proof.code, proof.message] as const)
        : ([
            'verification-timeout',
            'verification_timeout',
            'The consent could not be confirmed with Microsoft Entra ID within 24 hours.',
          ] as const);
    return change(rule, {
      ...tenant,
      status: 'error',
      verification: null,
      lastError: lastErrorFor(code, message, now),
    });
  }
  const attempts = verification.attempts + 1;
  const delay = Math.max(nextCheckDelaySeconds(attempts), proof.retryAfterSeconds);
  return change('verification-retry', {
    ...tenant,
    verification: {
      ...verification,
      attempts,
      nextCheckAt: new Date(now.getTime() + delay * 1000).toISOString(),
    },
  });
}

/**
 * What a fresh proof says about a tenant whose consent was proven before. An outage changes nothing, and so
 * does a proof of a tenant that awaits a new credential of its own, except a consent found removed.
 */
function onRecheck(tenant: TenantRecord, proof: TenantProof, now: Date): Transition {
  if (proof.kind !== 'unprovable' && awaitsNewCredential(tenant, now))
    return unchanged('recheck-awaits-credential');
  if (proof.kind === 'proven') {
    const next = provenTenant(tenant, proof, now);
    if (tenant.status === 'revoked' || tenant.status === 'error') return change('recheck-restored', next);
    if (
      next.status === tenant.status &&
      JSON.stringify(next.grantedRoles) === JSON.stringify(tenant.grantedRoles) &&
      JSON.stringify(next.apps) === JSON.stringify(tenant.apps)
    )
      return unchanged('recheck-same');
    return change('recheck-roles-changed', next);
  }
  if (consentMissing(proof)) {
    if (tenant.status === 'revoked') return unchanged('recheck-still-revoked');
    return change('recheck-revoked', {
      ...tenant,
      status: 'revoked',
      lastError: lastErrorFor(proof.code, 'The consent was removed in the tenant.', now),
    });
  }
  if (proof.kind === 'refused') {
    // The same refusal as last time: nothing new to record or audit.
    if (tenant.status === 'error' && tenant.lastError?.code === proof.code)
      return unchanged('recheck-same-refusal');
    return change('recheck-refused', {
      ...tenant,
      status: 'error',
      lastError: lastErrorFor(proof.code, proof.message, now),
    });
  }
  return unchanged('recheck-nothing-learned'); // Entra unavailable: nothing learned.
}

/**
 * What the credential now in use may do. Entra not (yet) knowing the app in the tenant means, after a new
 * credential, that the customer's consent may still replicate (`pending_verification`, re-checked by the
 * timer) and, after going back to the home app, that the home app has no consent (`revoked`).
 */
function onCredentialChange(
  tenant: TenantRecord,
  kind: 'credential_set' | 'credential_removed',
  proof: TenantProof,
  now: Date,
): Transition {
  // Offboarded meanwhile (a concurrent DELETE /api/tenants/{tenantId}): leave the tombstone as it is.
  if (tenant.status === 'offboarded') return unchanged('credential-offboarded');
  if (proof.kind === 'proven') return change('credential-proven', provenTenant(tenant, proof, now));
  if (proof.kind === 'refused')
    return change('credential-refused', {
      ...tenant,
      status: 'error',
      lastError: lastErrorFor(proof.code, proof.message, now),
    });
  if (proof.code === 'entra_unavailable') return unchanged('credential-unavailable');
  if (kind === 'credential_removed' && consentMissing(proof))
    return change('credential-removed-no-consent', {
      ...tenant,
      status: 'revoked',
      verification: null,
      lastError: lastErrorFor(proof.code, proof.message, now),
    });
  return change('credential-pending', {
    ...tenant,
    status: 'pending_verification',
    verification: {
      since: now.toISOString(),
      attempts: 0,
      nextCheckAt: new Date(now.getTime() + nextCheckDelaySeconds(0) * 1000).toISOString(),
    },
  });
}

/** The tenant's own app credential ends soon (`degraded` if it was `active`) or has ended (`error`). */
function onExpiry(tenant: TenantRecord, expired: boolean, now: Date): Transition {
  const credential = tenant.appCredential;
  if (tenant.status === 'offboarded' || !credential) return unchanged('expiry-not-applicable');
  const code = expired ? 'credential_expired' : 'credential_expiring';
  if (tenant.lastError?.code === code && (tenant.status === 'degraded' || tenant.status === 'error'))
    return unchanged('expiry-flagged');
  const message = `The tenant's own app credential (client ${credential.clientId}) ${expired ? 'expired' : 'expires'} on ${credential.expiresOn}.`;
  if (expired)
    return change('expiry-expired', {
      ...tenant,
      status: 'error',
      lastError: lastErrorFor(code, message, now),
    });
  return change(tenant.status === 'active' ? 'expiry-expiring-active' : 'expiry-expiring-other', {
    ...tenant,
    status: tenant.status === 'active' ? 'degraded' : tenant.status,
    lastError: lastErrorFor(code, message, now),
  });
}
