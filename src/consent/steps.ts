/**
 * Steps every browser step of the consent flow shares: reading a callback's query, consuming a state,
 * checking the onboarding is still open, recording where it got to, and auditing a refusal.
 * @module
 */
import { RowChanged } from '../adapters/tables/port.js';
import type { AuditActor } from '../audit/audit-log.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import { ConsentFailure } from './errors.js';
import { effectiveStatus, type Onboarding } from './onboarding-store.js';
import { StateRejected } from './state-store.js';
import type { ConsentDeps } from './types.js';

/** The longest query string a callback may carry; Entra's own stay far below this. */
const MAX_QUERY_LENGTH = 4_096;

export const grantedKind = (tenant: TenantRecord) =>
  Object.keys(tenant.missingRoles).length ? ('incomplete' as const) : ('granted' as const);

/**
 * Records where an onboarding got to, if it is unchanged since this consent read it (etag): a consent for
 * another tenant that got there first (another tab, another state) wins, and this one records no binding.
 */
export async function claim(deps: ConsentDeps, onboarding: Onboarding): Promise<Onboarding> {
  try {
    return await deps.onboardings.update(onboarding);
  } catch (err) {
    if (err instanceof RowChanged) throw new ConsentFailure('onboardingTaken');
    throw err;
  }
}

/**
 * Reads a callback's query: each parameter at most once, nothing oversized. Parameters Entra may add that
 * the flow does not use are ignored; the ones it uses are refused when repeated (a smuggling attempt).
 */
export function callbackParams(query: URLSearchParams, known: readonly string[]): Map<string, string> {
  if (query.toString().length > MAX_QUERY_LENGTH) throw new ConsentFailure('badParameters');
  const out = new Map<string, string>();
  for (const [k, v] of query) {
    if (!known.includes(k)) continue;
    if (out.has(k)) throw new ConsentFailure('badParameters');
    out.set(k, v);
  }
  return out;
}

export async function consumeState(
  deps: Pick<ConsentDeps, 'states'>,
  state: string | undefined,
  purpose: 'consent' | 'signin' | 'confirm' | 'grant',
  browserKeys: readonly string[],
) {
  if (!state) throw new ConsentFailure('stateInvalid');
  try {
    return await deps.states.consume(state, purpose, browserKeys);
  } catch (err) {
    if (err instanceof StateRejected) throw new ConsentFailure(STATE_FAILURES[err.problem]);
    throw err;
  }
}

const STATE_FAILURES = {
  unknown: 'stateInvalid',
  expired: 'stateExpired',
  replayed: 'stateReplayed',
  otherBrowser: 'otherBrowser',
} as const;

/**
 * An onboarding a consent may still complete for `tenantId` (null: not known yet): not consented, not
 * expired, and not already on its way for another tenant — a second state cannot re-point it.
 */
export function assertOpen(deps: ConsentDeps, onboarding: Onboarding, tenantId: string | null): void {
  const status = effectiveStatus(onboarding, deps.now());
  if (status === 'consented') throw new ConsentFailure('linkUsed');
  if (status === 'expired') throw new ConsentFailure('linkExpired');
  if (tenantId !== null && onboarding.tenantId !== null && onboarding.tenantId !== tenantId)
    throw new ConsentFailure('onboardingTaken');
}

/** An Entra error redirect's AADSTS number (from its description) and the code kept for support. */
export function entraError(
  error: string,
  description: string | undefined,
): { aadsts: string | undefined; supportCode: string } {
  const aadsts = /AADSTS(\d+)/.exec(description ?? '')?.[1];
  return {
    aadsts,
    supportCode: aadsts ? `AADSTS${aadsts}` : error.replace(/[^A-Za-z0-9_]/g, '').slice(0, 64),
  };
}

export async function markFailed(
  deps: ConsentDeps,
  onboarding: Onboarding,
  code: string,
  message: string,
  tenantId?: string,
): Promise<void> {
  await deps.onboardings.update({
    ...onboarding,
    status: 'failed',
    progress: null,
    tenantId: tenantId ?? onboarding.tenantId,
    error: { code, message, at: deps.now().toISOString() },
  });
}

export async function auditRejected(
  deps: ConsentDeps,
  tenantId: string,
  onboarding: Onboarding,
  actor: AuditActor,
  reason: string,
): Promise<void> {
  await deps.audit.write({
    action: 'consent.rejected',
    tenantId,
    actor,
    details: { onboardingId: onboarding.id, customerRef: onboarding.customerRef, reason },
  });
}
