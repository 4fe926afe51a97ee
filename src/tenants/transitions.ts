/**
 * The table of the tenant lifecycle (src/tenants/lifecycle.ts applies it): every rule by name, with the
 * statuses it moves a tenant from, the events and the condition it applies on, the statuses it leads to, and
 * the audit action written with it; and the constants the rules use. docs/tenant-lifecycle.md prints it.
 * @module
 */
import type { TenantEvent } from './lifecycle.js';
import type { TenantStatus } from './tenant-store.js';

/**
 * Codes Entra answers while a consent is not present in the tenant, or has not reached every replica yet: app
 * not found in the tenant (AADSTS700016) or no service principal yet (AADSTS7000229). Microsoft's own ARO-RP
 * retries on them (FACTS.md §3, "Replication delay after consent"). After a consent they mean "not yet"; for a
 * tenant proven before they mean the consent was removed.
 */
export const REPLICATION_CODES: ReadonlySet<string> = new Set(['700016', '7000229']);

/**
 * Statuses of tenants whose consent was proven once, which a fresh proof may move (the six-hourly re-check,
 * src/tenants/consent-watch.ts, and a support check, src/support/checks.ts): `pending_verification` has its
 * own timer (src/consent/flow.ts `reverifyPendingConsents`), `offboarded` none.
 */
export const RECHECKED_STATUSES: readonly TenantStatus[] = ['active', 'degraded', 'revoked', 'error'];

/** Re-checks of a consent Entra accepted but could not show yet: 15 s, 30 s, 1 min … at most every 15 min. */
export function nextCheckDelaySeconds(attempts: number): number {
  return Math.min(15 * 2 ** attempts, 900);
}
/** After this long without proof the tenant is `error` and the admin is asked to consent again. */
export const VERIFICATION_LIMIT_SECONDS = 24 * 3_600;

export type TenantAuditAction =
  | 'consent.granted'
  | 'consent.accepted'
  | 'consent.unproven'
  | 'consent.verified'
  | 'consent.restored'
  | 'consent.revoked'
  | 'consent.unusable'
  | 'credential.expiring'
  | 'tenant.offboarded';

/** One row of the lifecycle: from which statuses, on which event and condition, to what, audited how. */
export interface TransitionRule {
  /** The events it applies to. */
  readonly on: readonly TenantEvent['kind'][];
  /** `none`: no record of the tenant yet. */
  readonly from: readonly (TenantStatus | 'none')[];
  readonly when: string;
  /** `unchanged`: nothing is written. */
  readonly to: readonly TenantStatus[] | 'unchanged';
  readonly audit: TenantAuditAction | null;
}

const ANY: readonly TenantStatus[] = [
  'pending_verification',
  'active',
  'degraded',
  'revoked',
  'error',
  'offboarded',
];
const PROVEN: readonly TenantStatus[] = ['active', 'degraded'];

/** Every transition, by rule name; `nextTenant` names the one it applied. */
export const TRANSITIONS = {
  // A consent through an onboarding: of a new tenant, again of a known one, or of an offboarded one
  // (re-onboarding). The record keeps what the broker knew of the tenant and adds the onboarding's profiles.
  'consent-refused': {
    on: ['consent'],
    from: ['none', ...ANY],
    when: 'Entra refuses the proof (e.g. AADSTS7000112, app disabled)',
    to: ['error'],
    audit: 'consent.unproven',
  },
  'consent-unprovable': {
    on: ['consent'],
    from: ['none', ...ANY],
    when: 'the consent is not provable yet (replication, Entra unreachable); re-checked with backoff',
    to: ['pending_verification'],
    audit: 'consent.accepted',
  },
  'consent-proven': {
    on: ['consent'],
    from: ['none', ...ANY],
    when: 'proven: every requested role granted (active) or some missing (degraded)',
    to: PROVEN,
    audit: 'consent.granted',
  },
  'verification-proven': {
    on: ['verification'],
    from: ['pending_verification'],
    when: 'the background proof succeeds',
    to: PROVEN,
    audit: 'consent.verified',
  },
  'verification-refused': {
    on: ['verification'],
    from: ['pending_verification'],
    when: 'Entra refuses the proof',
    to: ['error'],
    audit: 'consent.unproven',
  },
  'verification-timeout': {
    on: ['verification'],
    from: ['pending_verification'],
    when: `still unprovable ${VERIFICATION_LIMIT_SECONDS / 3_600} h after the consent (verification_timeout)`,
    to: ['error'],
    audit: 'consent.unproven',
  },
  'verification-retry': {
    on: ['verification'],
    from: ['pending_verification'],
    when: 'still unprovable: the next check is put off (15 s · 2^n, at most 15 min, or Retry-After)',
    to: ['pending_verification'],
    audit: null,
  },
  'recheck-awaits-credential': {
    on: ['recheck'],
    from: ['error'],
    when: 'the tenant waits for a new own credential (awaitsNewCredential) and the consent is not found removed',
    to: 'unchanged',
    audit: null,
  },
  'recheck-restored': {
    on: ['recheck'],
    from: ['revoked', 'error'],
    when: 'proven again',
    to: PROVEN,
    audit: 'consent.restored',
  },
  'recheck-roles-changed': {
    on: ['recheck'],
    from: PROVEN,
    when: "proven, with another status or other granted roles than recorded (per app: a record from before bundles gets its apps; one bundle's consent gone while another's holds: `degraded`, `lastError` naming the bundle)",
    to: PROVEN,
    audit: null,
  },
  'recheck-same': {
    on: ['recheck'],
    from: PROVEN,
    when: 'proven, with the status and granted roles recorded, per app',
    to: 'unchanged',
    audit: null,
  },
  'recheck-revoked': {
    on: ['recheck'],
    from: ['active', 'degraded', 'error'],
    when: "the consent is gone (AADSTS700016 / 7000229; with several bundles, every bundle's)",
    to: ['revoked'],
    audit: 'consent.revoked',
  },
  'recheck-still-revoked': {
    on: ['recheck'],
    from: ['revoked'],
    when: 'the consent is still gone',
    to: 'unchanged',
    audit: null,
  },
  'recheck-refused': {
    on: ['recheck'],
    from: ['active', 'degraded', 'revoked', 'error'],
    when: 'Entra refuses the proof with a code other than the recorded error',
    to: ['error'],
    audit: 'consent.unusable',
  },
  'recheck-same-refusal': {
    on: ['recheck'],
    from: ['error'],
    when: 'Entra refuses the proof with the code already recorded',
    to: 'unchanged',
    audit: null,
  },
  'recheck-nothing-learned': {
    on: ['recheck'],
    from: RECHECKED_STATUSES,
    when: 'Entra unreachable, or unprovable for another reason',
    to: 'unchanged',
    audit: null,
  },
  'credential-offboarded': {
    on: ['credential_set', 'credential_removed'],
    from: ['offboarded'],
    when: 'a credential change never moves a tombstone (the change itself is refused with 409 before)',
    to: 'unchanged',
    audit: null,
  },
  'credential-proven': {
    on: ['credential_set', 'credential_removed'],
    from: ['pending_verification', ...RECHECKED_STATUSES],
    when: 'the app now in use is proven (set or removed)',
    to: PROVEN,
    audit: null,
  },
  'credential-refused': {
    on: ['credential_set', 'credential_removed'],
    from: ['pending_verification', ...RECHECKED_STATUSES],
    when: 'Entra refuses the app now in use (set or removed)',
    to: ['error'],
    audit: null,
  },
  'credential-unavailable': {
    on: ['credential_set', 'credential_removed'],
    from: ['pending_verification', ...RECHECKED_STATUSES],
    when: 'Entra unreachable (set or removed)',
    to: 'unchanged',
    audit: null,
  },
  'credential-removed-no-consent': {
    on: ['credential_removed'],
    from: ['pending_verification', ...RECHECKED_STATUSES],
    when: 'back on the home app, which Entra does not find in the tenant (AADSTS700016 / 7000229)',
    to: ['revoked'],
    audit: null,
  },
  'credential-pending': {
    on: ['credential_set', 'credential_removed'],
    from: ['pending_verification', ...RECHECKED_STATUSES],
    when: "Entra does not show the own app's consent yet (or, removed, not provable otherwise): re-checked by the timer",
    to: ['pending_verification'],
    audit: null,
  },
  'expiry-flagged': {
    on: ['credential_expiring', 'credential_expired'],
    from: ['degraded', 'error'],
    when: 'flagged already with the same code (credential_expiring or credential_expired)',
    to: 'unchanged',
    audit: null,
  },
  'expiry-expiring-active': {
    on: ['credential_expiring'],
    from: ['active'],
    when: 'the own credential ends within 30 days',
    to: ['degraded'],
    audit: 'credential.expiring',
  },
  'expiry-expiring-other': {
    on: ['credential_expiring'],
    from: ['pending_verification', 'degraded', 'revoked', 'error'],
    when: 'the own credential ends within 30 days: the status stays, lastError says so',
    to: ['pending_verification', 'degraded', 'revoked', 'error'],
    audit: 'credential.expiring',
  },
  'expiry-expired': {
    on: ['credential_expired'],
    from: ['pending_verification', ...RECHECKED_STATUSES],
    when: 'the own credential has ended (credential_expired)',
    to: ['error'],
    audit: 'credential.expiring',
  },
  'expiry-not-applicable': {
    on: ['credential_expiring', 'credential_expired'],
    from: ANY,
    when: 'an offboarded tenant, or one without an own credential, is never flagged',
    to: 'unchanged',
    audit: null,
  },
  offboarding: {
    on: ['offboarding'],
    from: ANY,
    when: 'DELETE /api/tenants/{tenantId}, also again (a retry completes a failed one)',
    to: ['offboarded'],
    audit: 'tenant.offboarded',
  },
} as const satisfies Record<string, TransitionRule>;

export type RuleName = keyof typeof TRANSITIONS;
