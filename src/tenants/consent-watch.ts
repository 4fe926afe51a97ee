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
import { awaitsNewCredential, nextTenant, RECHECKED_STATUSES, type TenantProof } from './lifecycle.js';
import type { TenantRecord, TenantStore } from './tenant-store.js';

export const RECHECK_PERIOD_MS = 6 * 3_600_000;
/**
 * How often the timer runs: at second 0 of every fifth minute of the clock (its schedule in functions/timers.ts),
 * each run taking the window since the one before.
 */
export const RECHECK_EVERY_MS = 5 * 60_000;
export interface ConsentWatchDeps {
  /** A fresh proof of the tenant's consent for its profiles (src/consent/proof.ts `proveConsent`). */
  readonly proveTenant: (tenantId: string, profiles: readonly string[]) => Promise<TenantProof>;
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
      if (!RECHECKED_STATUSES.includes(tenant.status)) continue;
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
      await applyProof(deps, tenant, await deps.proveTenant(tenant.tenantId, tenant.profiles), {
        kind: 'system',
        id: 'broker',
      });
    }
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return checked;
}

/**
 * Records what a fresh proof says about a tenant whose consent was proven before (src/tenants/lifecycle.ts
 * `recheck-*`): written conditionally on the record read, its cached tokens and copies dropped, audited.
 * Returns the tenant as it now stands.
 */
export async function applyProof(
  deps: Pick<ConsentWatchDeps, 'tenants' | 'audit' | 'tokens' | 'directory' | 'now'>,
  tenant: TenantRecord,
  proof: TenantProof,
  actor: AuditActor,
): Promise<TenantRecord> {
  const change = nextTenant(tenant, { kind: 'recheck', proof }, deps.now());
  if (change.next === 'unchanged') return tenant;
  const { next, audit: action } = change;
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
