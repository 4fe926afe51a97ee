/**
 * `POST /api/onboardings` and `GET /api/onboardings/{id}` (SPEC.md "Vendor support"): a consent link for a
 * customer, and its state. Input is checked strictly; the code is shown once, in the 201 answer.
 * @module
 */
import type { AuditLog } from '../audit/audit-log.js';
import { createOnboarding } from '../consent/onboardings.js';
import type { ConsentSettings } from '../consent/types.js';
import { effectiveStatus, type Onboarding, type OnboardingStore } from '../consent/onboarding-store.js';
import { endedProfiles, type Profiles } from '../profiles/profiles.js';
import { staffActor, type StaffPrincipal } from '../support/staff-auth.js';
import { readJsonBody } from './json-body.js';
import { badRequest, notFound } from './problem.js';
import { readPath } from './routes/path-parameters.js';
import { readQuery } from './routes/query.js';
import { onboardingRoutes } from './routes/support.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';
import { CUSTOMER_REF, CUSTOMER_REF_MAX_LENGTH } from '../ids.js';

export interface OnboardingsDeps {
  readonly settings: ConsentSettings;
  readonly profiles: Profiles;
  readonly onboardings: OnboardingStore;
  readonly audit: AuditLog;
  readonly now: () => Date;
}

export async function postOnboarding(
  deps: OnboardingsDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(onboardingRoutes.createOnboarding, request);
  // Types, unknown fields, the customerRef and applianceId formats, a non-empty list of distinct profile
  // names: the OnboardingRequest schema (src/http/routes/validation.ts).
  const body = await readJsonBody(request, 'OnboardingRequest');
  // The schema reads the reference as sent; what is kept is trimmed, and must still be one.
  const customerRef = body.customerRef.trim();
  if (!CUSTOMER_REF.test(customerRef))
    throw badRequest(`customerRef is required: 1 to ${CUSTOMER_REF_MAX_LENGTH} printable characters.`);
  const applianceId = body.applianceId ?? null;
  // By default every profile, less those that have ended (src/profiles/profiles.ts `endedProfiles`).
  let profiles = [...deps.profiles.profiles.keys()].filter(
    (name) => endedProfiles(deps.profiles, [name], deps.now()).length === 0,
  );
  if (body.profiles !== undefined) {
    const unknown = body.profiles.filter((n) => !deps.profiles.get(n));
    if (unknown.length)
      throw badRequest(
        `Unknown profile${unknown.length > 1 ? 's' : ''}: ${unknown.map((n) => JSON.stringify(n.slice(0, 40))).join(', ')}; known: ${[...deps.profiles.profiles.keys()].join(', ')}.`,
      );
    profiles = [...body.profiles];
    const ended = endedProfiles(deps.profiles, profiles, deps.now());
    if (ended.length) throw badRequest(ended.join(' '));
  }
  const { onboarding, code, consentUrl } = await createOnboarding(
    deps,
    { customerRef, applianceId, profiles },
    staffActor(staff),
  );
  return jsonReply(
    201,
    { id: onboarding.id, code, consentUrl, expiresAt: onboarding.expiresAt },
    { 'cache-control': 'no-store', location: `/api/onboardings/${onboarding.id}` },
  );
}

export async function getOnboarding(deps: OnboardingsDeps, request: HttpRequestLike): Promise<HttpReply> {
  readQuery(onboardingRoutes.getOnboarding, request);
  const { id } = readPath<{ id: string }>(onboardingRoutes.getOnboarding, request);
  const onboarding = await deps.onboardings.get(id);
  if (!onboarding) throw notFound(`No onboarding ${id}.`);
  return jsonReply(200, onboardingView(onboarding, deps.now()), { 'cache-control': 'no-store' });
}

/** The onboarding as the support API and the appliance view show it (no code: it was shown once). */
export function onboardingView(o: Onboarding, now: Date) {
  return {
    id: o.id,
    status: effectiveStatus(o, now),
    customerRef: o.customerRef,
    applianceId: o.applianceId,
    profiles: o.profiles,
    createdAt: o.createdAt,
    expiresAt: o.expiresAt,
    tenantId: o.tenantId,
    progress: o.progress,
    confirmedBy: o.confirmedBy,
    grantedRoles: o.grantedRoles,
    missingRoles: o.missingRoles,
    error: o.error,
  };
}
