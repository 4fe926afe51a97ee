/**
 * Background verification of consents Entra accepted but could not show yet (directory replication, FACTS.md
 * §3): the 15 s timer proves each `pending_verification` tenant whose next check is due, with backoff, and
 * completes its onboarding (binding an appliance only once its admin confirmed it).
 * @module
 */
import type { AuditActor } from '../audit/audit-log.js';
import { nextTenant } from '../tenants/lifecycle.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import { proveConsent } from './proof.js';
import type { ConsentDeps } from './types.js';
import { bindAppliance } from './appliance-confirmation.js';
import { markFailed } from './steps.js';

/** The timer's work: prove every `pending_verification` tenant whose next check is due. Returns how many ran. */
export async function reverifyPendingConsents(deps: ConsentDeps): Promise<number> {
  let continuationToken: string | undefined;
  let checked = 0;
  do {
    const page = await deps.tenants.list({ status: 'pending_verification', top: 100, continuationToken });
    for (const tenant of page.items) {
      if (!tenant.verification || Date.parse(tenant.verification.nextCheckAt) > deps.now().getTime())
        continue;
      checked++;
      await reverifyOne(deps, tenant);
    }
    continuationToken = page.continuationToken;
  } while (continuationToken);
  return checked;
}

async function reverifyOne(deps: ConsentDeps, tenant: TenantRecord): Promise<void> {
  const verification = tenant.verification!;
  const now = deps.now();
  // Within REPLICATION_WINDOW_SECONDS of the consent, missing roles keep it pending (proof.ts); after it, a
  // role still missing is real and the tenant is proven `degraded`.
  const proof = await proveConsent(deps, tenant.tenantId, tenant.profiles, {
    consentedAt: verification.since,
    now,
  });
  const onboarding = verification.onboardingId
    ? await deps.onboardings.get(verification.onboardingId)
    : undefined;
  const system: AuditActor = { kind: 'system', id: 'broker' };
  // src/tenants/lifecycle.ts `verification-*`.
  const change = nextTenant(tenant, { kind: 'verification', proof }, now);
  const { next } = change;
  // Conditional: if another instance finished first, its write wins and this one stops here.
  await deps.tenants.replace(next);
  if (change.rule === 'verification-proven') {
    // An appliance's onboarding waits for its admin's confirmation (confirmAppliance completes it then).
    if (onboarding && onboarding.status !== 'consented' && onboarding.progress !== 'awaiting_confirmation') {
      await bindAppliance(deps, onboarding, tenant.tenantId, system);
      await deps.onboardings.update({
        ...onboarding,
        status: 'consented',
        progress: null,
        grantedRoles: next.grantedRoles,
        missingRoles: next.missingRoles,
        error: null,
      });
    }
    await deps.audit.write({
      action: change.audit,
      tenantId: tenant.tenantId,
      actor: system,
      details: {
        attempts: verification.attempts + 1,
        grantedRoles: next.grantedRoles,
        missingRoles: next.missingRoles,
      },
    });
    return;
  }
  if (change.audit === 'consent.unproven' && next.lastError) {
    const { code, message } = next.lastError;
    if (onboarding) await markFailed(deps, onboarding, code, message, tenant.tenantId);
    await deps.audit.write({
      action: change.audit,
      tenantId: tenant.tenantId,
      actor: system,
      details: { code, attempts: verification.attempts + 1 },
    });
  }
}
