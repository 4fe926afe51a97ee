/**
 * The appliance an onboarding binds, and the admin's confirmation that binds it (`POST /consent/confirm`):
 * after a consent proven through a link tied to an appliance, the admin who signed in, in the same browser,
 * confirms a page naming the appliance and the customer reference it was registered with; only then is it
 * bound (RFC 6749 §10.12: the form's CSRF token is a single-use state bound to that browser).
 * @module
 */
import type { Appliance } from '../appliances/appliance-store.js';
import type { AuditActor } from '../audit/audit-log.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import { ConsentFailure } from './errors.js';
import { type Onboarding } from './onboarding-store.js';
import type { ConsentDeps, ConsentOutcome, SignedInAdmin } from './types.js';
import { assertOpen, claim, grantedKind, consumeState } from './steps.js';

/** The confirmation page's outcome: a fresh single-use state, bound to this browser, as its CSRF token. */
export async function confirmation(
  deps: ConsentDeps,
  tenant: TenantRecord,
  onboarding: Onboarding,
  appliance: Appliance,
  admin: SignedInAdmin,
  browserKey: string,
): Promise<ConsentOutcome> {
  const confirmState = await deps.states.issue(
    {
      purpose: 'confirm',
      onboardingId: onboarding.id,
      tenantId: tenant.tenantId,
      silent: false,
      admin: { objectId: admin.objectId, displayName: admin.displayName },
    },
    deps.settings.stateTtlSeconds,
    browserKey,
  );
  return {
    kind: 'confirm',
    tenant,
    onboarding,
    appliance: {
      clientId: appliance.clientId,
      customerRef: appliance.customerRef,
      profiles: appliance.profiles,
    },
    confirmState,
  };
}

/**
 * `POST /consent/confirm`: the admin confirms, on a page naming the appliance and its customer reference,
 * that the consent they just gave binds that appliance to their tenant. The form's `state` is the CSRF
 * token: single-use, short-lived, and accepted only with the key of the browser that signed in (so a page
 * of another site cannot post it, and nobody else's browser can). The onboarding must still be waiting for
 * this very tenant. A proven consent then completes the onboarding and binds the appliance; one still being
 * proven binds it when the background check proves it (reverifyOne).
 */
export async function confirmAppliance(
  deps: ConsentDeps,
  form: ReadonlyMap<string, string>,
  browserKeys: readonly string[],
): Promise<ConsentOutcome> {
  const binding = await consumeState(deps, form.get('state'), 'confirm', browserKeys);
  const { tenantId, admin } = binding;
  const onboarding = await deps.onboardings.get(binding.onboardingId);
  if (!onboarding || !tenantId || !admin) throw new ConsentFailure('stateInvalid');
  assertOpen(deps, onboarding, tenantId);
  if (onboarding.tenantId !== tenantId || onboarding.progress !== 'awaiting_confirmation')
    throw new ConsentFailure('onboardingTaken');
  const tenant = await deps.tenants.get(tenantId);
  if (
    !tenant ||
    (tenant.status !== 'active' && tenant.status !== 'degraded' && tenant.status !== 'pending_verification')
  )
    throw new ConsentFailure('consentError', tenant?.lastError?.code);

  const actor: AuditActor = { kind: 'admin', id: admin.objectId, name: admin.displayName };
  const confirmedBy = { ...admin, at: deps.now().toISOString() };
  if (tenant.status === 'pending_verification') {
    const updated = await claim(deps, { ...onboarding, progress: 'pending_verification', confirmedBy });
    await auditConfirmed(deps, tenantId, actor, onboarding);
    return { kind: 'verifying', tenant, onboarding: updated };
  }
  const updated = await claim(deps, {
    ...onboarding,
    status: 'consented',
    progress: null,
    grantedRoles: tenant.grantedRoles,
    missingRoles: tenant.missingRoles,
    confirmedBy,
  });
  await auditConfirmed(deps, tenantId, actor, onboarding);
  await bindAppliance(deps, updated, tenantId, actor);
  return { kind: grantedKind(tenant), tenant, onboarding: updated };
}

async function auditConfirmed(
  deps: ConsentDeps,
  tenantId: string,
  actor: AuditActor,
  onboarding: Onboarding,
): Promise<void> {
  await deps.audit.write({
    action: 'appliance.confirmed',
    tenantId,
    actor,
    details: {
      onboardingId: onboarding.id,
      customerRef: onboarding.customerRef,
      clientId: onboarding.applianceId,
    },
  });
}

/**
 * The appliance an onboarding would bind to the tenant whose admin consented (SPEC.md "appliance": exactly
 * one bound tenant): active and bound to no tenant yet. An appliance already bound to another tenant is not
 * moved (that takes support staff), and the refusal is audited.
 */
export async function applianceToBind(
  deps: ConsentDeps,
  onboarding: Onboarding,
  tenantId: string,
  actor: AuditActor,
): Promise<Appliance | undefined> {
  if (!onboarding.applianceId || !deps.appliances) return undefined;
  const appliance = await deps.appliances.get(onboarding.applianceId);
  if (!appliance || appliance.status !== 'active' || appliance.tenantId === tenantId) return undefined;
  if (appliance.tenantId !== null) {
    await deps.audit.write({
      action: 'appliance.bind_refused',
      tenantId,
      actor,
      details: {
        clientId: appliance.clientId,
        boundTenantId: appliance.tenantId,
        onboardingId: onboarding.id,
      },
    });
    return undefined;
  }
  return appliance;
}

/** Binds the onboarding's appliance to the tenant, once the admin confirmed it (confirmAppliance). */
export async function bindAppliance(
  deps: ConsentDeps,
  onboarding: Onboarding,
  tenantId: string,
  actor: AuditActor,
): Promise<void> {
  const appliance = await applianceToBind(deps, onboarding, tenantId, actor);
  if (!appliance || !deps.appliances) return;
  await deps.appliances.update({ ...appliance, tenantId });
  deps.directory?.invalidate('appliance', appliance.clientId);
  await deps.audit.write({
    action: 'appliance.bound',
    tenantId,
    actor,
    details: { clientId: appliance.clientId, onboardingId: onboarding.id },
  });
}
