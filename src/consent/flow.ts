/**
 * The customer consent flow (SPEC.md "Customers"), framework-free:
 *
 *   landing(code)          the onboarding behind a consent link, or why it cannot be used
 *   startConsent(code)     a fresh single-use `state` and the URL of Entra's admin-consent endpoint
 *   consentCallback(q)     checks `state`; an Entra error fails the onboarding; otherwise signs the admin in
 *                          with OpenID Connect at the tenant the callback names (code + PKCE + nonce)
 *   signinCallback(q)      redeems the code; goes on only for a member of that very tenant holding a role that
 *                          can grant the consent; proves the consent with app-only tokens; records the tenant
 *
 * Then, for a link tied to an appliance, the admin's confirmation (src/consent/appliance-confirmation.ts);
 * consents Entra could not show yet are proven in the background (src/consent/verification.ts); onboardings
 * are created in src/consent/onboardings.ts; the steps these share are in src/consent/steps.ts.
 *
 * The callback's `tenant` is never evidence (FACTS.md §1.1): only the ID token of the admin who just consented
 * binds the consent to the tenant, and only an app-only token proves what was granted.
 * @module
 */
import { SignInRefused } from '../adapters/entra/sign-in.js';
import type { AuditActor } from '../audit/audit-log.js';
import type { Profile } from '../profiles/profiles.js';
import { bundleRegistration } from '../profiles/registration.js';
import { nextTenant } from '../tenants/lifecycle.js';
import { canGrantConsent } from './admin-roles.js';
import { ConsentFailure } from './errors.js';
import { effectiveStatus, type Onboarding } from './onboarding-store.js';
import { proveConsent, type ProofResult } from './proof.js';
import { newBrowserKey, STATE_PATTERN } from './state-store.js';
import { GUID } from '../ids.js';
import type { ConsentDeps, ConsentOutcome, SignedInAdmin, SigninResult } from './types.js';
import { applianceToBind, confirmation } from './appliance-confirmation.js';
import { firstConsentUrl, nextConsentUrl } from './bundle-consent.js';
import { CODE_PATTERN } from './onboardings.js';
import {
  assertOpen,
  auditRejected,
  callbackParams,
  claim,
  entraError,
  grantedKind,
  markFailed,
  consumeState,
} from './steps.js';

/** Silent sign-in failed (FACTS.md §14): ask again, interactively. */
const INTERACTION_ERRORS = new Set([
  'login_required',
  'interaction_required',
  'account_selection_required',
  'consent_required',
]);

export interface Landing {
  readonly onboarding: Onboarding;
  readonly profiles: readonly Profile[];
}

/** The onboarding behind a consent link, usable for a consent now; otherwise a ConsentFailure. */
export async function landing(deps: ConsentDeps, code: string): Promise<Landing> {
  if (!CODE_PATTERN.test(code)) throw new ConsentFailure('linkNotFound');
  const onboarding = await deps.onboardings.byCode(code);
  if (!onboarding) throw new ConsentFailure('linkNotFound');
  const status = effectiveStatus(onboarding, deps.now());
  if (status === 'expired') throw new ConsentFailure('linkExpired');
  if (status === 'consented') throw new ConsentFailure('linkUsed');
  return {
    onboarding,
    profiles: onboarding.profiles.map((n) => deps.profiles.get(n)).filter((p) => p !== undefined),
  };
}

/**
 * `GET /connect/{code}/go`: the admin-consent URL with a fresh state bound to the onboarding and to this
 * browser. `presentedKey` is the browser's key if it already has one (another consent started in another
 * tab keeps working); otherwise a new one is made. The caller gives the returned key to the browser (a
 * cookie): every later step of this consent is accepted only with it (RFC 9700 §4.7).
 */
export async function startConsent(
  deps: ConsentDeps,
  code: string,
  presentedKey?: string,
): Promise<{ location: string; browserKey: string }> {
  const { onboarding, profiles } = await landing(deps, code);
  const browserKey = presentedKey && STATE_PATTERN.test(presentedKey) ? presentedKey : newBrowserKey();
  const location = await firstConsentUrl(deps, onboarding, browserKey, profiles);
  return { location, browserKey };
}

/**
 * `GET /consent/callback`: Entra's answer to the admin-consent request. Returns where to send the browser
 * next (the sign-in of the admin); every refusal is a ConsentFailure and records nothing, except that a valid
 * state with an Entra error marks its onboarding failed.
 */
export async function consentCallback(
  deps: ConsentDeps,
  query: URLSearchParams,
  browserKeys: readonly string[],
): Promise<string> {
  const q = callbackParams(query, [
    'tenant',
    'admin_consent',
    'state',
    'scope',
    'error',
    'error_description',
    'error_subcode',
    'error_uri',
  ]);
  const binding = await consumeState(deps, q.get('state'), 'consent', browserKeys);
  const onboarding = await deps.onboardings.get(binding.onboardingId);
  if (!onboarding) throw new ConsentFailure('stateInvalid');
  assertOpen(deps, onboarding, null);

  const error = q.get('error');
  if (error !== undefined && onboarding.tenantId !== null) {
    // Already on its way for a tenant (e.g. being proven): another attempt's error does not fail it.
    throw new ConsentFailure('consentError', entraError(error, q.get('error_description')).supportCode);
  }
  if (error !== undefined) {
    const { aadsts, supportCode } = entraError(error, q.get('error_description'));
    // FACTS.md §1.1 / §1.2: a declined consent is AADSTS65004 (v2) or permission_denied (v1).
    const denied = aadsts === '65004' || error === 'permission_denied' || error === 'access_denied';
    await markFailed(
      deps,
      onboarding,
      supportCode,
      denied
        ? 'The administrator declined the consent.'
        : 'Microsoft Entra ID answered the consent with an error.',
    );
    await deps.audit.write({
      action: 'consent.failed',
      tenantId: null,
      actor: { kind: 'anonymous', id: 'consent-callback' },
      details: { onboardingId: onboarding.id, customerRef: onboarding.customerRef, code: supportCode },
    });
    throw new ConsentFailure(denied ? 'consentDenied' : 'consentError', supportCode);
  }

  const tenant = (q.get('tenant') ?? '').toLowerCase();
  if (!GUID.test(tenant) || (q.get('admin_consent') ?? '').toLowerCase() !== 'true')
    throw new ConsentFailure('badParameters');
  assertOpen(deps, onboarding, tenant);
  const next = await nextConsentUrl(deps, onboarding, binding, tenant);
  if (next !== undefined) return next;
  // The last app's consent: the admin signs in with it (consented just now, so the sign-in is silent).
  return signInUrl(deps, onboarding.id, tenant, true, binding.browserKey, binding.app);
}

async function signInUrl(
  deps: ConsentDeps,
  onboardingId: string,
  tenantId: string,
  silent: boolean,
  browserKey: string,
  app: string | undefined,
): Promise<string> {
  const state = await deps.states.issue(
    { purpose: 'signin', onboardingId, tenantId, silent, ...(app ? { app } : {}) },
    deps.settings.stateTtlSeconds,
    browserKey,
  );
  const { verifier, nonce } = await pkceFor(deps, state);
  try {
    return await deps.signIn.authorizationUrl({
      ...(app ? { app } : {}),
      tenantId,
      redirectUri: `${deps.settings.publicUrl}/consent/signin`,
      state,
      nonce,
      codeChallenge: deps.codeChallengeFor(verifier),
      // The admin has just signed in at Microsoft to consent, so this is normally silent (SPEC.md).
      prompt: silent ? 'none' : 'select_account',
    });
  } catch (err) {
    // EntraUnavailable goes on to the one outage map (src/http/outage.ts): a 503 page with Retry-After.
    // Entra refuses the tenant's authority, e.g. AADSTS90002 for a tenant id that does not exist: the
    // callback named a tenant that Microsoft does not know, so it cannot have come from a real consent.
    if (err instanceof SignInRefused)
      throw new ConsentFailure('consentError', err.aadsts ? `AADSTS${err.aadsts}` : undefined);
    throw err;
  }
}

/**
 * The PKCE verifier and the nonce of a sign-in, derived from its state with the broker key: any instance can
 * recompute them, nobody else can, and neither is ever stored (RFC 7636 §4.1: 43+ characters of high entropy).
 */
async function pkceFor(deps: ConsentDeps, state: string): Promise<{ verifier: string; nonce: string }> {
  const [verifier, nonce] = await Promise.all([
    deps.keys.derive('pkce-verifier', state),
    deps.keys.derive('oidc-nonce', state),
  ]);
  return { verifier, nonce };
}

/** `GET /consent/signin`: the admin's sign-in; on success the consent is proven and recorded. */
export async function signinCallback(
  deps: ConsentDeps,
  query: URLSearchParams,
  browserKeys: readonly string[],
): Promise<SigninResult> {
  const q = callbackParams(query, [
    'code',
    'state',
    'error',
    'error_description',
    'error_subcode',
    'error_uri',
    'session_state',
    'client_info',
  ]);
  const state = q.get('state');
  const binding = await consumeState(deps, state, 'signin', browserKeys);
  const tenantId = binding.tenantId;
  const onboarding = await deps.onboardings.get(binding.onboardingId);
  if (!onboarding || !tenantId) throw new ConsentFailure('stateInvalid');
  assertOpen(deps, onboarding, tenantId);

  const error = q.get('error');
  if (error !== undefined) {
    if (binding.silent && INTERACTION_ERRORS.has(error))
      return {
        redirect: await signInUrl(deps, onboarding.id, tenantId, false, binding.browserKey, binding.app),
      };
    const { aadsts, supportCode } = entraError(error, q.get('error_description'));
    await auditRejected(deps, tenantId, onboarding, { kind: 'anonymous', id: 'sign-in' }, supportCode);
    // AADSTS50020: an account of another tenant that is not a guest of this one (FACTS.md §3).
    throw new ConsentFailure(aadsts === '50020' ? 'notAMember' : 'consentError', supportCode);
  }
  const code = q.get('code');
  if (!code || code.length > 4_096) throw new ConsentFailure('badParameters');

  const { verifier, nonce } = await pkceFor(deps, state!);
  let admin: SignedInAdmin;
  try {
    admin = await deps.signIn.redeemCode({
      ...(binding.app ? { app: binding.app } : {}),
      tenantId,
      code,
      redirectUri: `${deps.settings.publicUrl}/consent/signin`,
      codeVerifier: verifier,
      nonce,
    });
  } catch (err) {
    if (err instanceof SignInRefused) {
      const aadsts = err.aadsts ? `AADSTS${err.aadsts}` : undefined;
      await auditRejected(
        deps,
        tenantId,
        onboarding,
        { kind: 'anonymous', id: 'sign-in' },
        aadsts ?? 'sign_in_refused',
      );
      throw new ConsentFailure('consentError', aadsts);
    }
    throw err;
  }

  const actor: AuditActor = { kind: 'admin', id: admin.objectId, name: admin.displayName };
  if (admin.tenantId.toLowerCase() !== tenantId) {
    await auditRejected(deps, tenantId, onboarding, actor, 'tenant_mismatch');
    throw new ConsentFailure('tenantMismatch');
  }
  if (admin.isGuest) {
    await auditRejected(deps, tenantId, onboarding, actor, 'guest');
    throw new ConsentFailure('notAMember');
  }
  // `/.default` granted every permission of each app's registration, not only this onboarding's: the admin's
  // role must be able to grant all of them (src/profiles/registration.ts).
  const bundles = deps.profiles.bundlesFor(onboarding.profiles);
  const resourceAppIds = (bundles.length ? bundles : [deps.profiles.bundles[0]!]).flatMap((b) =>
    bundleRegistration(deps.profiles, b).applicationPermissions.map((g) => g.resource.appId),
  );
  if (!canGrantConsent(admin.directoryRoleIds, resourceAppIds)) {
    await auditRejected(deps, tenantId, onboarding, actor, 'not_an_admin');
    throw new ConsentFailure('notAnAdmin');
  }

  // The consent was given just now: tokens lacking its roles (or oid) are replication (proof.ts). Not for a
  // tenant already in use, though: holding it `pending_verification` would refuse its working appliances
  // their tokens while the new roles replicate; it is proven with what Entra shows now, as before.
  const now = deps.now();
  const existing = await deps.tenants.get(tenantId);
  const inUse = existing?.status === 'active' || existing?.status === 'degraded';
  // A device that enrolled itself joins only a tenant the vendor has onboarded, unless enrollment is open
  // (BROKER_ENROLLMENT, src/appliances/enrollment.ts): nothing is recorded for another.
  if (onboarding.enrollmentId && (deps.settings.enrollment ?? 'onboarded') !== 'open' && !inUse) {
    await auditRejected(deps, tenantId, onboarding, actor, 'tenant_not_onboarded');
    throw new ConsentFailure('enrollmentClosed');
  }
  const proof = await proveConsent(
    deps,
    tenantId,
    onboarding.profiles,
    inUse ? undefined : { consentedAt: now, now },
  );
  return { outcome: await recordConsent(deps, onboarding, tenantId, admin, proof, binding.browserKey) };
}

async function recordConsent(
  deps: ConsentDeps,
  onboarding: Onboarding,
  tenantId: string,
  admin: SignedInAdmin,
  proof: ProofResult,
  browserKey: string,
): Promise<ConsentOutcome> {
  const now = deps.now();
  const existing = await deps.tenants.get(tenantId);
  const consentedBy = { objectId: admin.objectId, displayName: admin.displayName };
  const actor: AuditActor = { kind: 'admin', id: admin.objectId, name: admin.displayName };
  // The tenant's record as the lifecycle has it after this consent (src/tenants/lifecycle.ts `consent-*`).
  const { next: tenant, audit: action } = nextTenant(
    existing,
    {
      kind: 'consent',
      consent: {
        tenantId,
        onboardingId: onboarding.id,
        customerRef: onboarding.customerRef,
        profiles: onboarding.profiles,
        consentedBy,
      },
      proof,
    },
    now,
  );

  if (proof.kind === 'refused') {
    await deps.tenants.save(tenant);
    await markFailed(deps, onboarding, proof.code, proof.message, tenantId);
    await deps.audit.write({
      action,
      tenantId,
      actor,
      details: { onboardingId: onboarding.id, code: proof.code },
    });
    throw new ConsentFailure('consentError', proof.code);
  }

  // An appliance this consent would bind waits for the admin's confirmation (confirmAppliance).
  const toBind = await applianceToBind(deps, onboarding, tenantId, actor);
  if (proof.kind === 'unprovable') {
    await deps.tenants.save(tenant);
    const updated = await claim(deps, {
      ...onboarding,
      status: 'pending',
      tenantId,
      progress: toBind ? 'awaiting_confirmation' : 'pending_verification',
      error: null,
    });
    // The appliance is bound only once the consent is proven and confirmed (reverifyOne, confirmAppliance).
    await deps.audit.write({
      action,
      tenantId,
      actor,
      details: {
        onboardingId: onboarding.id,
        customerRef: onboarding.customerRef,
        verification: 'pending',
        reason: proof.code,
      },
    });
    if (toBind) return confirmation(deps, tenant, updated, toBind, admin, browserKey);
    return { kind: 'verifying', tenant, onboarding: updated };
  }

  await deps.tenants.save(tenant);
  if (toBind) {
    const updated = await claim(deps, {
      ...onboarding,
      status: 'pending',
      tenantId,
      progress: 'awaiting_confirmation',
      grantedRoles: proof.grantedRoles,
      missingRoles: proof.missingRoles,
      error: null,
    });
    await auditGranted(deps, action, tenantId, actor, onboarding, proof);
    return confirmation(deps, tenant, updated, toBind, admin, browserKey);
  }
  const updated = await claim(deps, {
    ...onboarding,
    status: 'consented',
    tenantId,
    progress: null,
    grantedRoles: proof.grantedRoles,
    missingRoles: proof.missingRoles,
    error: null,
  });
  await auditGranted(deps, action, tenantId, actor, onboarding, proof);
  return { kind: grantedKind(tenant), tenant, onboarding: updated };
}

async function auditGranted(
  deps: ConsentDeps,
  action: string,
  tenantId: string,
  actor: AuditActor,
  onboarding: Onboarding,
  proof: Extract<ProofResult, { kind: 'proven' }>,
): Promise<void> {
  await deps.audit.write({
    action,
    tenantId,
    actor,
    details: {
      onboardingId: onboarding.id,
      customerRef: onboarding.customerRef,
      grantedRoles: proof.grantedRoles,
      missingRoles: proof.missingRoles,
    },
  });
}
