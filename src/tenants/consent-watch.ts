/**
 * Revocation detection: consent can be removed in the customer's tenant at any time (deleting the
 * enterprise application), and Microsoft tells nobody. A timer re-proves each tenant about every six hours,
 * spread over that period — each tenant has a fixed slot derived from its id, and each run takes the tenants
 * whose slots fall in its window — so Entra sees a steady trickle, not a burst. Consent gone (AADSTS7000229 /
 * 700016) → `revoked`, its cached tokens dropped, so appliances are refused with that cause; consent back →
 * `active` (or `degraded`) again. Tenants in `error` (Entra refused the proof, e.g. because the home app's
 * credential was invalid) are re-proven the same way, so they recover by themselves once the cause is fixed.
 * The same observation is applied by a support check.
 * @module
 */
import { createHash } from 'node:crypto';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import { lastErrorFor, provenTenant } from '../consent/flow.js';
import { proveConsent, REPLICATION_CODES, type ProofDeps, type ProofResult } from '../consent/proof.js';
import type { TenantRecord, TenantStore } from './tenant-store.js';

export const RECHECK_PERIOD_MS = 6 * 3_600_000;
/**
 * How often the timer runs: at second 0 of every fifth minute of the clock (its schedule in functions/timers.ts),
 * each run taking the window since the one before.
 */
export const RECHECK_EVERY_MS = 5 * 60_000;
/** Statuses of tenants whose consent was proven once; pending_verification has its own timer, offboarded none. */
const RECHECKED = new Set(['active', 'degraded', 'revoked', 'error']);

export interface ConsentWatchDeps extends ProofDeps {
  readonly tenants: TenantStore;
  readonly audit: AuditLog;
  readonly tokens: { forgetTenant(tenantId: string): void };
  readonly directory: { invalidate(kind: 'appliance' | 'tenant', id: string): void };
  readonly now: () => Date;
}

/** Where in the period a tenant is re-checked: a stable offset from a hash of its id. */
export function recheckSlot(tenantId: string, periodMs = RECHECK_PERIOD_MS): number {
  return createHash('sha256').update(tenantId).digest().readUInt32BE(0) % periodMs;
}

/** Whether `slot` lies in the window [from, to) of the period (wrapping round its end). */
function inWindow(slot: number, from: number, to: number, periodMs: number): boolean {
  if (to - from >= periodMs) return true;
  const a = from % periodMs;
  const b = to % periodMs;
  return a <= b ? slot >= a && slot < b : slot >= a || slot < b;
}

/**
 * The timer's work for the window (previousRun, now]: re-proves the active, degraded, revoked and error
 * tenants whose slot is in it. Returns how many were checked.
 */
export async function recheckConsents(
  deps: ConsentWatchDeps,
  windowStart: Date,
  periodMs = RECHECK_PERIOD_MS,
): Promise<number> {
  const from = windowStart.getTime();
  const to = deps.now().getTime();
  let checked = 0;
  let continuationToken: string | undefined;
  do {
    const page = await deps.tenants.list({ top: 200, continuationToken });
    for (const tenant of page.items) {
      if (!RECHECKED.has(tenant.status)) continue;
      // In error, only a tenant proven once is re-proven here: one whose consent was never proven failed its
      // verification (src/consent/flow.ts) and needs a new consent; and one whose own credential expired
      // waits for a new one (awaitsNewCredential).
      if (
        tenant.status === 'error' &&
        (tenant.servicePrincipalId === null || awaitsNewCredential(tenant, deps.now()))
      )
        continue;
      if (!inWindow(recheckSlot(tenant.tenantId, periodMs), from, to, periodMs)) continue;
      checked++;
      await applyProof(deps, tenant, await proveConsent(deps, tenant.tenantId, tenant.profiles), {
        kind: 'system',
        id: 'broker',
      });
    }
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return checked;
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
 * Records what a fresh proof says about a tenant whose consent was proven before. An outage changes nothing,
 * and so does a proof of a tenant that awaits a new credential of its own, except a consent found removed.
 * Returns the tenant as it now stands.
 */
export async function applyProof(
  deps: ConsentWatchDeps,
  tenant: TenantRecord,
  proof: ProofResult,
  actor: AuditActor,
): Promise<TenantRecord> {
  const now = deps.now();
  let next: TenantRecord | undefined;
  let action: string | undefined;
  if (proof.kind !== 'unprovable' && awaitsNewCredential(tenant, now)) return tenant;
  if (proof.kind === 'proven') {
    next = provenTenant(tenant, proof);
    if (tenant.status === 'revoked' || tenant.status === 'error') action = 'consent.restored';
    else if (
      next.status === tenant.status &&
      JSON.stringify(next.grantedRoles) === JSON.stringify(tenant.grantedRoles)
    )
      return tenant;
  } else if (proof.kind === 'unprovable' && REPLICATION_CODES.has(proof.code.replace(/^AADSTS/, ''))) {
    if (tenant.status === 'revoked') return tenant;
    next = {
      ...tenant,
      status: 'revoked',
      lastError: lastErrorFor(proof.code, 'The consent was removed in the tenant.', now),
    };
    action = 'consent.revoked';
  } else if (proof.kind === 'refused') {
    // The same refusal as last time: nothing new to record or audit.
    if (tenant.status === 'error' && tenant.lastError?.code === proof.code) return tenant;
    next = {
      ...tenant,
      status: 'error',
      lastError: lastErrorFor(proof.code, proof.message, now),
    };
    action = 'consent.unusable';
  } else return tenant; // Entra unavailable: nothing learned.
  await deps.tenants.replace(next);
  deps.tokens.forgetTenant(tenant.tenantId);
  deps.directory.invalidate('tenant', tenant.tenantId);
  if (action) {
    await deps.audit.write({
      action,
      tenantId: tenant.tenantId,
      actor,
      details: { status: next.status, code: next.lastError?.code ?? null },
    });
  }
  return next;
}
