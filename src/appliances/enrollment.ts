/**
 * Zero-touch enrollment (README "A PBX that enrolls itself"), shaped like RFC 8628's device authorization grant:
 *
 *   startEnrollment          `POST /appliance/enroll` (no credential; counted per address): the profiles the device
 *                            wants (`scope`, profile names), optionally its public keys (`jwks`: it will use
 *                            private_key_jwt and never hold a secret) → `device_code`, `user_code`,
 *                            `verification_uri` (the broker's `/enroll`), `expires_in` 900, `interval` 5
 *   enrollmentLanding        the admin enters the code on `/enroll`: what the device asks for, or why not
 *   beginEnrollmentSignIn    `/enroll/go`: the appliance is registered (unbound) and an onboarding tied to it starts
 *                            the consent flow (src/consent/flow.ts): admin consent, the admin's sign-in binding the
 *                            tenant (a member admin of that very tenant), then the confirmation page naming the
 *                            device and what it may use (src/consent/appliance-confirmation.ts) binds it
 *   pollEnrollment           the device polls the token endpoint with the device-code grant and its `device_code`;
 *                            once the appliance is bound it receives, once, its client id, tenant and (without
 *                            keys) its client secret — RFC 7591 §3.2.1's client information response fields
 *
 * Guessing is bounded: 20^8 user codes alive 15 minutes, unknown codes counted per address (10 per 5 minutes,
 * the device page's throttle), at most MAX_SIGN_IN_STARTS sign-ins per code, enrollments per address limited
 * (ENROLLMENTS_PER_ADDRESS). Every step is audited; codes are stored as hashes and the secret sealed until
 * delivered. BROKER_ENROLLMENT turns it off, limits it to onboarded tenants (the default), or opens it.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { JWK } from 'jose';
import { RowChanged } from '../adapters/tables/port.js';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import { ConsentFailure } from '../consent/errors.js';
import { startConsent } from '../consent/flow.js';
import { createOnboarding } from '../consent/onboardings.js';
import type { ConsentDeps } from '../consent/types.js';
import type { Custody } from '../grants/custody.js';
import { USER_CODE_ENTERED } from '../grants/grant-store.js';
import { DEVICE_CODE_TTL_SECONDS, DEVICE_POLL_INTERVAL_SECONDS, newUserCode } from '../grants/grants.js';
import { APPLIANCE_REF } from '../ids.js';
import {
  endedProfiles,
  profilesSplitAcrossBundles,
  type Profile,
  type Profiles,
} from '../profiles/profiles.js';
import { createAuthThrottle, DEFAULT_THROTTLE_LIMITS, type AuthThrottle } from '../vending/auth-throttle.js';
import type { DevicePolls } from '../vending/device-code.js';
import {
  DeviceFlowError,
  InvalidGrant,
  InvalidRequest,
  InvalidScope,
  OAuthError,
} from '../vending/errors.js';
import type { ApplianceStore } from './appliance-store.js';
import { effectiveEnrollmentStatus, type Enrollment, type EnrollmentStore } from './enrollment-store.js';
import { registerAppliance, RegistryInputError, validateJwks, type RegistryDeps } from './registry.js';

/** Enrollment device codes carry this prefix, so that the token endpoint tells them from grants' device codes. */
export const ENROLLMENT_CODE_PREFIX = 'cbe_';
export const ENROLLMENT_PATH = '/enroll';
/** RFC 8628 §3.2 `expires_in` and `interval`: the broker's device-code flow's (src/grants/grants.ts). */
export const ENROLLMENT_TTL_SECONDS = DEVICE_CODE_TTL_SECONDS;
export const ENROLLMENT_POLL_INTERVAL_SECONDS = DEVICE_POLL_INTERVAL_SECONDS;
/** Sign-ins started with one user code; a further one is refused and the code is dead. */
export const MAX_SIGN_IN_STARTS = 3;
/** Enrollments asked for per address per 5 minutes (createEnrollmentThrottle). */
export const ENROLLMENTS_PER_ADDRESS = 10;

const ACTOR: AuditActor = { kind: 'anonymous', id: 'enrollment' };
const DEVICE_CODE = /^cbe_[A-Za-z0-9_-]{43}$/;

export type EnrollmentPolicy = 'off' | 'onboarded' | 'open';

/** Enrollments asked for per address: ENROLLMENTS_PER_ADDRESS per 5 minutes (each request counts). */
export function createEnrollmentThrottle(now?: () => number): AuthThrottle {
  return createAuthThrottle(
    {
      ...DEFAULT_THROTTLE_LIMITS,
      perAddress: ENROLLMENTS_PER_ADDRESS,
      perClientAtAddress: ENROLLMENTS_PER_ADDRESS,
      windowMs: 300_000,
    },
    now,
  );
}

/** Refused before anything is stored: RFC 6749 §5.2-style `error`, with the HTTP status to answer. */
export class EnrollmentRefused extends OAuthError {}

export interface EnrollmentDeps extends RegistryDeps {
  readonly enrollments: EnrollmentStore;
  readonly appliances: ApplianceStore;
  readonly custody: Custody;
  readonly audit: AuditLog;
  readonly profiles: Profiles;
  /** Enrollments asked for per address (every request counts). */
  readonly enrollThrottle: AuthThrottle;
  /** Unknown user codes per address (the device page's: src/grants/device-verification.ts). */
  readonly userCodes: AuthThrottle;
  readonly devicePolls: DevicePolls;
  readonly settings: ConsentDeps['settings'];
}

export interface EnrollmentAuthorization {
  readonly device_code: string;
  readonly user_code: string;
  readonly verification_uri: string;
  readonly verification_uri_complete: string;
  readonly expires_in: number;
  readonly interval: number;
  readonly message: string;
}

/** RFC 7591 §3.2.1's client information, plus where and for what the device now gets tokens. */
export interface EnrolledClient {
  readonly client_id: string;
  readonly client_secret?: string;
  readonly client_id_issued_at: number;
  readonly client_secret_expires_at?: 0;
  readonly token_endpoint_auth_method: 'client_secret_basic' | 'private_key_jwt';
  readonly tenant_id: string;
  readonly profiles: readonly string[];
  readonly token_endpoint: string;
}

const policyOf = (deps: Pick<EnrollmentDeps, 'settings'>): EnrollmentPolicy =>
  deps.settings.enrollment ?? 'onboarded';

/** `POST /appliance/enroll` with the request's form fields. */
export async function startEnrollment(
  deps: EnrollmentDeps,
  form: ReadonlyMap<string, string>,
  address: string | undefined,
): Promise<EnrollmentAuthorization> {
  if (policyOf(deps) === 'off')
    throw new EnrollmentRefused('access_denied', 403, 'Self-enrollment is turned off for this broker.');
  const wait = deps.enrollThrottle.blockedFor(undefined, address);
  if (wait > 0)
    throw new EnrollmentRefused(
      'slow_down',
      429,
      `Too many enrollments from this address; retry after ${wait} s.`,
      { 'retry-after': String(wait) },
    );
  if (['client_id', 'client_secret', 'client_assertion'].some((k) => form.has(k)))
    throw new InvalidRequest('An enrollment carries no client credential.');
  for (const key of form.keys())
    if (!['scope', 'customer_ref', 'jwks'].includes(key))
      throw new InvalidRequest(`Unknown parameter ${key}: an enrollment takes scope, customer_ref and jwks.`);

  const profiles = [...new Set((form.get('scope') ?? '').split(/ +/).filter(Boolean))];
  if (profiles.length === 0)
    throw new InvalidScope(
      `scope is required: the profiles the device needs, space-separated (${[...deps.profiles.profiles.keys()].join(', ')}).`,
    );
  const unknown = profiles.filter((p) => !deps.profiles.get(p));
  if (unknown.length) throw new InvalidScope(`Unknown profiles: ${unknown.join(', ')}.`);
  const split = profilesSplitAcrossBundles(deps.profiles, profiles);
  if (split.length) throw new InvalidScope(split.join(' '));
  const ended = endedProfiles(deps.profiles, profiles, deps.now());
  if (ended.length) throw new InvalidScope(ended.join(' '));
  const customerRef = form.get('customer_ref');
  if (customerRef !== undefined && !APPLIANCE_REF.test(customerRef))
    throw new InvalidRequest('customer_ref: 1-64 of A-Z a-z 0-9 . _ -');
  let jwks: JWK[] = [];
  if (form.has('jwks')) {
    try {
      jwks = await validateJwks(JSON.parse(form.get('jwks')!));
    } catch (err) {
      if (err instanceof SyntaxError) throw new InvalidRequest('jwks: not JSON (a JWK Set of public keys).');
      if (err instanceof RegistryInputError) throw new InvalidRequest(`jwks: ${err.message}`);
      throw err;
    }
  }

  deps.enrollThrottle.failure(undefined, address);
  const now = deps.now();
  const deviceCode = `${ENROLLMENT_CODE_PREFIX}${randomBytes(32).toString('base64url')}`;
  const userCode = newUserCode();
  const id = randomUUID();
  const enrollment: Enrollment = {
    id,
    status: 'pending',
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + ENROLLMENT_TTL_SECONDS * 1000).toISOString(),
    address: address ?? null,
    profiles,
    // Not the user code: that is a secret while it lives, and the reference is stored and shown for good.
    customerRef: customerRef ?? `enrolled-${id.slice(0, 8)}`,
    jwks,
    applianceId: null,
    signInStarts: 0,
    secret: null,
    deliveredAt: null,
  };
  await deps.enrollments.create(enrollment, { deviceCode, userCode });
  await deps.audit.write({
    action: 'enrollment.started',
    tenantId: null,
    actor: ACTOR,
    target: enrollment.id,
    details: {
      profiles,
      customerRef: enrollment.customerRef,
      method: jwks.length ? 'private_key_jwt' : 'client_secret',
      address: address ?? null,
    },
  });
  const page = `${deps.settings.publicUrl}${ENROLLMENT_PATH}`;
  return {
    device_code: deviceCode,
    user_code: userCode,
    verification_uri: page,
    verification_uri_complete: `${page}?${new URLSearchParams({ user_code: userCode })}`,
    expires_in: ENROLLMENT_TTL_SECONDS,
    interval: ENROLLMENT_POLL_INTERVAL_SECONDS,
    message: `To connect this device to your organization's Microsoft 365, an administrator opens ${page} and enters the code ${userCode}.`,
  };
}

/** The enrollment a user code opens, and the profiles it asks for; unknown codes are counted per address. */
export async function enrollmentLanding(
  deps: Pick<EnrollmentDeps, 'enrollments' | 'userCodes' | 'profiles' | 'now' | 'settings'>,
  userCode: string,
  address: string | undefined,
): Promise<{ enrollment: Enrollment; profiles: Profile[] }> {
  if (policyOf(deps) === 'off') throw new ConsentFailure('enrollmentClosed');
  if (deps.userCodes.blockedFor(undefined, address) > 0) throw new ConsentFailure('tooManyAttempts');
  const typed = userCode.trim();
  const enrollment = USER_CODE_ENTERED.test(typed) ? await deps.enrollments.byUserCode(typed) : undefined;
  if (!enrollment || effectiveEnrollmentStatus(enrollment, deps.now()) !== 'pending') {
    deps.userCodes.failure(undefined, address);
    throw new ConsentFailure('userCodeUnknown');
  }
  if (enrollment.signInStarts >= MAX_SIGN_IN_STARTS) throw new ConsentFailure('codeAttemptsUsed');
  const profiles = enrollment.profiles.flatMap((n) => deps.profiles.get(n) ?? []);
  return { enrollment, profiles };
}

/**
 * `/enroll/go?user_code=`: counts the sign-in start (at most MAX_SIGN_IN_STARTS), registers the device's appliance
 * the first time (unbound: it gets nothing until an admin confirms it), and starts the consent flow for a fresh
 * onboarding tied to it, in this browser.
 */
export async function beginEnrollmentSignIn(
  deps: EnrollmentDeps & ConsentDeps,
  userCode: string,
  address: string | undefined,
  presentedKey: string | undefined,
): Promise<{ location: string; browserKey: string }> {
  let { enrollment } = await enrollmentLanding(deps, userCode, address);
  for (let attempt = 0; ; attempt++) {
    try {
      enrollment = await withAppliance(deps, enrollment);
      break;
    } catch (err) {
      if (!(err instanceof RowChanged) || attempt > 1) throw err;
      ({ enrollment } = await enrollmentLanding(deps, userCode, address));
    }
  }
  const { code } = await createOnboarding(
    deps,
    {
      customerRef: enrollment.customerRef,
      applianceId: enrollment.applianceId,
      profiles: enrollment.profiles,
      enrollment: { id: enrollment.id, expiresAt: enrollment.expiresAt },
    },
    ACTOR,
  );
  await deps.audit.write({
    action: 'enrollment.code_entered',
    tenantId: null,
    actor: ACTOR,
    target: enrollment.id,
    details: {
      applianceId: enrollment.applianceId,
      signInStarts: enrollment.signInStarts,
      address: address ?? null,
    },
  });
  return startConsent(deps, code, presentedKey);
}

/** One more sign-in start, and the appliance registered if it is not yet, in one conditional write. */
async function withAppliance(deps: EnrollmentDeps, enrollment: Enrollment): Promise<Enrollment> {
  if (enrollment.applianceId)
    return deps.enrollments.update({ ...enrollment, signInStarts: enrollment.signInStarts + 1 });
  const { appliance, clientSecret } = await registerAppliance(
    deps,
    {
      customerRef: enrollment.customerRef,
      tenantId: null,
      profiles: enrollment.profiles,
      method: enrollment.jwks.length ? 'private_key_jwt' : 'client_secret',
      ...(enrollment.jwks.length ? { jwks: { keys: enrollment.jwks } } : {}),
    },
    { kind: 'anonymous', id: 'enrollment', name: `enrollment ${enrollment.id}` },
  );
  try {
    return await deps.enrollments.update({
      ...enrollment,
      signInStarts: enrollment.signInStarts + 1,
      applianceId: appliance.clientId,
      secret: clientSecret ? await deps.custody.seal(clientSecret, secretAad(enrollment.id)) : null,
    });
  } catch (err) {
    // Another browser registered one first: this one is never used.
    if (err instanceof RowChanged)
      await deps.appliances.update({ ...appliance, status: 'revoked', revokedAt: deps.now().toISOString() });
    throw err;
  }
}

const secretAad = (enrollmentId: string) => `${enrollmentId}#enrollment-secret`;

/**
 * The device's poll (`grant_type` device_code, `device_code` = an enrollment's): RFC 8628 §3.5's answers until an
 * admin has confirmed it, then its credential, once.
 */
export async function pollEnrollment(
  deps: EnrollmentDeps,
  form: ReadonlyMap<string, string>,
): Promise<EnrolledClient> {
  if (form.has('client_secret') || form.has('client_assertion'))
    throw new InvalidRequest('An enrollment poll carries no client credential.');
  const deviceCode = form.get('device_code') ?? '';
  const found = DEVICE_CODE.test(deviceCode) ? await deps.enrollments.byDeviceCode(deviceCode) : undefined;
  if (!found) throw new DeviceFlowError('bad_verification_code', 'The device_code was not recognised.');
  const now = deps.now();
  const status = effectiveEnrollmentStatus(found, now);
  if (status === 'delivered')
    throw new InvalidGrant('The enrollment was completed; its credential was given once.');
  const appliance = found.applianceId ? await deps.appliances.get(found.applianceId) : undefined;
  if (status === 'expired') {
    // An appliance registered for it but never confirmed is of no use to anyone: revoked.
    if (appliance && appliance.status === 'active' && appliance.tenantId === null)
      await deps.appliances
        .update({ ...appliance, status: 'revoked', revokedAt: now.toISOString() })
        .catch((err: unknown) => {
          if (!(err instanceof RowChanged)) throw err;
        });
    throw new DeviceFlowError(
      'expired_token',
      'The enrollment expired before an administrator confirmed it. Start again.',
    );
  }
  if (appliance?.status === 'revoked')
    throw new DeviceFlowError(
      'authorization_declined',
      'The enrollment was refused: its appliance was revoked.',
    );
  if (!appliance || appliance.tenantId === null) {
    const { early, interval } = deps.devicePolls.poll(found.id, now.getTime());
    if (early)
      throw new DeviceFlowError('slow_down', `Polling too often: wait ${interval} seconds between requests.`);
    throw new DeviceFlowError(
      'authorization_pending',
      'No administrator has confirmed this device yet. Poll again after the interval.',
    );
  }
  const secret = found.secret ? await deps.custody.open(found.secret, secretAad(found.id)) : undefined;
  try {
    await deps.enrollments.update({
      ...found,
      status: 'delivered',
      secret: null,
      deliveredAt: now.toISOString(),
    });
  } catch (err) {
    if (err instanceof RowChanged)
      throw new InvalidGrant('The enrollment was completed; its credential was given once.');
    throw err;
  }
  deps.devicePolls.forget(found.id);
  await deps.audit.write({
    action: 'enrollment.delivered',
    tenantId: appliance.tenantId,
    actor: { kind: 'appliance', id: appliance.clientId },
    target: found.id,
    details: { applianceId: appliance.clientId, method: appliance.authMethod },
  });
  return {
    client_id: appliance.clientId,
    ...(secret ? { client_secret: secret, client_secret_expires_at: 0 as const } : {}),
    client_id_issued_at: Math.floor(Date.parse(appliance.createdAt) / 1000),
    token_endpoint_auth_method: secret ? 'client_secret_basic' : 'private_key_jwt',
    tenant_id: appliance.tenantId,
    profiles: appliance.profiles,
    token_endpoint: `${deps.settings.publicUrl}/oauth2/token`,
  };
}
