/**
 * Onboardings as support and appliances create them (SPEC.md `POST /api/onboardings`, `POST
 * /appliance/onboardings`): a consent link with a 128-bit code, valid for a week.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { AuditActor } from '../audit/audit-log.js';
import { type Onboarding } from './onboarding-store.js';
import type { ConsentDeps } from './types.js';

/** A consent link's code: 128 random bits, base64url. */
export const CODE_PATTERN = /^[A-Za-z0-9_-]{22}$/;

/** How long a consent link stays usable. */
export const ONBOARDING_TTL_SECONDS = 7 * 86_400;

export function newConsentCode(): string {
  return randomBytes(16).toString('base64url');
}

/** Creates an onboarding: a consent link for a customer (SPEC.md `POST /api/onboardings`). */
export async function createOnboarding(
  deps: Pick<ConsentDeps, 'onboardings' | 'audit' | 'now' | 'settings'>,
  input: {
    customerRef: string;
    applianceId: string | null;
    profiles: readonly string[];
    /** A zero-touch enrollment's onboarding lives only as long as the enrollment (src/appliances/enrollment.ts). */
    enrollment?: { readonly id: string; readonly expiresAt: string };
  },
  actor: AuditActor,
): Promise<{ onboarding: Onboarding; code: string; consentUrl: string }> {
  const now = deps.now();
  const code = newConsentCode();
  const onboarding: Onboarding = {
    id: randomUUID(),
    customerRef: input.customerRef,
    applianceId: input.applianceId,
    profiles: input.profiles,
    status: 'pending',
    createdAt: now.toISOString(),
    expiresAt:
      input.enrollment?.expiresAt ?? new Date(now.getTime() + ONBOARDING_TTL_SECONDS * 1000).toISOString(),
    createdBy: actor.name ?? actor.id,
    tenantId: null,
    progress: null,
    grantedRoles: null,
    missingRoles: null,
    error: null,
    confirmedBy: null,
    ...(input.enrollment ? { enrollmentId: input.enrollment.id } : {}),
  };
  await deps.onboardings.create(onboarding, code);
  await deps.audit.write({
    action: 'onboarding.created',
    tenantId: null,
    actor,
    details: {
      onboardingId: onboarding.id,
      customerRef: onboarding.customerRef,
      profiles: onboarding.profiles,
      applianceId: onboarding.applianceId,
      ...(input.enrollment ? { enrollmentId: input.enrollment.id } : {}),
    },
  });
  return { onboarding, code, consentUrl: `${deps.settings.publicUrl}/connect/${code}` };
}
