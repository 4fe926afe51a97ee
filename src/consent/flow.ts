/**
 * The customer consent flow (SPEC.md "Customers"), framework-free:
 *
 *   landing(code)          the onboarding behind a consent link, or why it cannot be used
 *   startConsent(code)     a fresh single-use `state` and the URL of Entra's admin-consent endpoint
 *   consentCallback(q)     checks `state`; an Entra error fails the onboarding; otherwise signs the admin in
 *                          with OpenID Connect at the tenant the callback names (code + PKCE + nonce)
 *   signinCallback(q)      redeems the code; goes on only for a member of that very tenant holding a role that
 *                          can grant the consent; proves the consent with app-only tokens; records the tenant
 *   confirmAppliance(f)    an onboarding that would bind an appliance binds it only when the admin, in the
 *                          same browser, confirms a page naming it (a form post whose CSRF token is a state)
 *
 * The callback's `tenant` is never evidence (FACTS.md §1.1): only the ID token of the admin who just consented
 * binds the consent to the tenant, and only an app-only token proves what was granted.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { EntraUnavailable } from '../adapters/entra/port.js';
import { SignInRefused } from '../adapters/entra/sign-in.js';
import { RowChanged } from '../adapters/tables/port.js';

import type { Appliance, ApplianceStore } from '../appliances/appliance-store.js';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import type { BrokerKeys } from '../keys/broker-keys.js';
import type { Profile, Profiles } from '../profiles/profiles.js';
import { homeAppRegistration } from '../profiles/registration.js';
import { nextTenant } from '../tenants/lifecycle.js';
import type { TenantRecord, TenantStore } from '../tenants/tenant-store.js';
import { canGrantConsent } from './admin-roles.js';
import { ConsentFailure } from './errors.js';
import { effectiveStatus, type Onboarding, type OnboardingStore } from './onboarding-store.js';
import { proveConsent, type ProofDeps, type ProofResult } from './proof.js';
import { newBrowserKey, STATE_PATTERN, StateRejected, type StateStore } from './state-store.js';
import { GUID } from '../ids.js';

/** What the flow needs of the admin's OpenID Connect sign-in (src/adapters/entra). */
export interface AdminSignInPort {
  authorizationUrl(request: {
    tenantId: string;
    redirectUri: string;
    state: string;
    nonce: string;
    codeChallenge: string;
    prompt?: 'none' | 'select_account' | 'login';
  }): Promise<string>;
  redeemCode(request: {
    tenantId: string;
    code: string;
    redirectUri: string;
    codeVerifier: string;
    nonce: string;
  }): Promise<SignedInAdmin>;
}

export interface SignedInAdmin {
  readonly tenantId: string;
  readonly objectId: string;
  readonly displayName: string;
  readonly directoryRoleIds: readonly string[];
  readonly isGuest: boolean;
}

export interface ConsentSettings {
  readonly publicUrl: string;
  readonly entraAuthorityHost: string;
  readonly homeAppClientId: string;
  readonly stateTtlSeconds: number;
}

export interface ConsentDeps extends ProofDeps {
  readonly settings: ConsentSettings;
  readonly profiles: Profiles;
  readonly onboardings: OnboardingStore;
  readonly states: StateStore;
  readonly tenants: TenantStore;
  readonly audit: AuditLog;
  readonly keys: BrokerKeys;
  readonly signIn: AdminSignInPort;
  /** Appliances, for an onboarding bound to one (its "Authorize" button): bound to the tenant on consent. */
  readonly appliances?: ApplianceStore;
  /** Forgets this instance's cached copy of an appliance after it changed. */
  readonly directory?: { invalidate(kind: 'appliance' | 'tenant', id: string): void };
  /** RFC 7636 §4.2 S256 challenge of a verifier. */
  readonly codeChallengeFor: (verifier: string) => string;
  readonly now: () => Date;
}

/** A consent link's code: 128 random bits, base64url. */
const CODE_PATTERN = /^[A-Za-z0-9_-]{22}$/;
/** How long a consent link stays usable. */
export const ONBOARDING_TTL_SECONDS = 7 * 86_400;
/** The longest query string a callback may carry; Entra's own stay far below this. */
const MAX_QUERY_LENGTH = 4_096;
/** Silent sign-in failed (FACTS.md §14): ask again, interactively. */
const INTERACTION_ERRORS = new Set([
  'login_required',
  'interaction_required',
  'account_selection_required',
  'consent_required',
]);

export function newConsentCode(): string {
  return randomBytes(16).toString('base64url');
}

// ---------------------------------------------------------------------------------------------- landing

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
  const state = await deps.states.issue(
    { purpose: 'consent', onboardingId: onboarding.id, tenantId: null, silent: false },
    deps.settings.stateTtlSeconds,
    browserKey,
  );
  // v2 admin consent (FACTS.md §1.1): `organizations`, never `common`; a `/.default` scope consents to every
  // permission the app registration asks for, whichever resource it names.
  const url = new URL(`${deps.settings.entraAuthorityHost}/organizations/v2.0/adminconsent`);
  url.searchParams.set('client_id', deps.settings.homeAppClientId);
  url.searchParams.set('scope', profiles[0]?.resource.scope ?? 'https://graph.microsoft.com/.default');
  url.searchParams.set('redirect_uri', `${deps.settings.publicUrl}/consent/callback`);
  url.searchParams.set('state', state);
  return { location: url.toString(), browserKey };
}

// ------------------------------------------------------------------------------------ consent callback

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
  const binding = await useState(deps, q.get('state'), 'consent', browserKeys);
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

  const tenant = q.get('tenant') ?? '';
  if (!GUID.test(tenant) || (q.get('admin_consent') ?? '').toLowerCase() !== 'true')
    throw new ConsentFailure('badParameters');
  assertOpen(deps, onboarding, tenant.toLowerCase());
  return signInUrl(deps, onboarding.id, tenant.toLowerCase(), true, binding.browserKey);
}

async function signInUrl(
  deps: ConsentDeps,
  onboardingId: string,
  tenantId: string,
  silent: boolean,
  browserKey: string,
): Promise<string> {
  const state = await deps.states.issue(
    { purpose: 'signin', onboardingId, tenantId, silent },
    deps.settings.stateTtlSeconds,
    browserKey,
  );
  const { verifier, nonce } = await pkceFor(deps, state);
  try {
    return await deps.signIn.authorizationUrl({
      tenantId,
      redirectUri: `${deps.settings.publicUrl}/consent/signin`,
      state,
      nonce,
      codeChallenge: deps.codeChallengeFor(verifier),
      // The admin has just signed in at Microsoft to consent, so this is normally silent (SPEC.md).
      prompt: silent ? 'none' : 'select_account',
    });
  } catch (err) {
    if (err instanceof EntraUnavailable)
      throw new ConsentFailure('temporarilyUnavailable', undefined, err.retryAfterSeconds);
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

// ------------------------------------------------------------------------------------- sign-in callback

export type ConsentOutcome =
  | {
      readonly kind: 'granted' | 'incomplete';
      readonly tenant: TenantRecord;
      readonly onboarding: Onboarding;
    }
  | { readonly kind: 'verifying'; readonly tenant: TenantRecord; readonly onboarding: Onboarding }
  | {
      /** The consent is recorded; binding the onboarding's appliance waits for the admin to confirm it. */
      readonly kind: 'confirm';
      readonly tenant: TenantRecord;
      readonly onboarding: Onboarding;
      readonly appliance: Pick<Appliance, 'clientId' | 'customerRef'>;
      /** The CSRF token of the confirmation form: a single-use state bound to this browser. */
      readonly confirmState: string;
    };

export type SigninResult = { readonly redirect: string } | { readonly outcome: ConsentOutcome };

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
  const binding = await useState(deps, state, 'signin', browserKeys);
  const tenantId = binding.tenantId;
  const onboarding = await deps.onboardings.get(binding.onboardingId);
  if (!onboarding || !tenantId) throw new ConsentFailure('stateInvalid');
  assertOpen(deps, onboarding, tenantId);

  const error = q.get('error');
  if (error !== undefined) {
    if (binding.silent && INTERACTION_ERRORS.has(error))
      return { redirect: await signInUrl(deps, onboarding.id, tenantId, false, binding.browserKey) };
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
      tenantId,
      code,
      redirectUri: `${deps.settings.publicUrl}/consent/signin`,
      codeVerifier: verifier,
      nonce,
    });
  } catch (err) {
    if (err instanceof EntraUnavailable)
      throw new ConsentFailure('temporarilyUnavailable', undefined, err.retryAfterSeconds);
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
  // `/.default` granted every permission of the registration, not only this onboarding's: the admin's role
  // must be able to grant all of them (src/profiles/registration.ts).
  const resourceAppIds = homeAppRegistration(deps.profiles).applicationPermissions.map(
    (g) => g.resource.appId,
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

const grantedKind = (tenant: TenantRecord) =>
  Object.keys(tenant.missingRoles).length ? ('incomplete' as const) : ('granted' as const);

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

/** The confirmation page's outcome: a fresh single-use state, bound to this browser, as its CSRF token. */
async function confirmation(
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
    appliance: { clientId: appliance.clientId, customerRef: appliance.customerRef },
    confirmState,
  };
}

// ------------------------------------------------------------------------------------- confirmation

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
  const binding = await useState(deps, form.get('state'), 'confirm', browserKeys);
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
 * Records where an onboarding got to, if it is unchanged since this consent read it (etag): a consent for
 * another tenant that got there first (another tab, another state) wins, and this one records no binding.
 */
async function claim(deps: ConsentDeps, onboarding: Onboarding): Promise<Onboarding> {
  try {
    return await deps.onboardings.update(onboarding);
  } catch (err) {
    if (err instanceof RowChanged) throw new ConsentFailure('onboardingTaken');
    throw err;
  }
}

/**
 * The appliance an onboarding would bind to the tenant whose admin consented (SPEC.md "appliance": exactly
 * one bound tenant): active and bound to no tenant yet. An appliance already bound to another tenant is not
 * moved (that takes support staff), and the refusal is audited.
 */
async function applianceToBind(
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
async function bindAppliance(
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

// -------------------------------------------------------------------------- background verification

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

// ----------------------------------------------------------------------------------------------- shared

/**
 * Reads a callback's query: each parameter at most once, nothing oversized. Parameters Entra may add that
 * the flow does not use are ignored; the ones it uses are refused when repeated (a smuggling attempt).
 */
function callbackParams(query: URLSearchParams, known: readonly string[]): Map<string, string> {
  if (query.toString().length > MAX_QUERY_LENGTH) throw new ConsentFailure('badParameters');
  const out = new Map<string, string>();
  for (const [k, v] of query) {
    if (!known.includes(k)) continue;
    if (out.has(k)) throw new ConsentFailure('badParameters');
    out.set(k, v);
  }
  return out;
}

async function useState(
  deps: ConsentDeps,
  state: string | undefined,
  purpose: 'consent' | 'signin' | 'confirm',
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
function assertOpen(deps: ConsentDeps, onboarding: Onboarding, tenantId: string | null): void {
  const status = effectiveStatus(onboarding, deps.now());
  if (status === 'consented') throw new ConsentFailure('linkUsed');
  if (status === 'expired') throw new ConsentFailure('linkExpired');
  if (tenantId !== null && onboarding.tenantId !== null && onboarding.tenantId !== tenantId)
    throw new ConsentFailure('onboardingTaken');
}

/** An Entra error redirect's AADSTS number (from its description) and the code kept for support. */
function entraError(
  error: string,
  description: string | undefined,
): { aadsts: string | undefined; supportCode: string } {
  const aadsts = /AADSTS(\d+)/.exec(description ?? '')?.[1];
  return {
    aadsts,
    supportCode: aadsts ? `AADSTS${aadsts}` : error.replace(/[^A-Za-z0-9_]/g, '').slice(0, 64),
  };
}

async function markFailed(
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

async function auditRejected(
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

/** Creates an onboarding: a consent link for a customer (SPEC.md `POST /api/onboardings`). */
export async function createOnboarding(
  deps: Pick<ConsentDeps, 'onboardings' | 'audit' | 'now' | 'settings'>,
  input: { customerRef: string; applianceId: string | null; profiles: readonly string[] },
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
    expiresAt: new Date(now.getTime() + ONBOARDING_TTL_SECONDS * 1000).toISOString(),
    createdBy: actor.name ?? actor.id,
    tenantId: null,
    progress: null,
    grantedRoles: null,
    missingRoles: null,
    error: null,
    confirmedBy: null,
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
    },
  });
  return { onboarding, code, consentUrl: `${deps.settings.publicUrl}/connect/${code}` };
}
