/**
 * The chain of admin consents an onboarding needs when its profiles span several bundles (issue 23): one
 * bundle app after another, each at Entra's admin-consent endpoint, the apps after the first at the tenant the
 * first came back from. src/consent/flow.ts runs the steps; the sign-in after the last binds the tenant.
 * @module
 */
import type { Profile } from '../profiles/profiles.js';
import { ConsentFailure } from './errors.js';
import type { Onboarding } from './onboarding-store.js';
import type { UsedState } from './state-store.js';
import type { ConsentDeps } from './types.js';

/** `GET /connect/{code}/go`: the consent URL of the onboarding's first app. */
export function firstConsentUrl(
  deps: ConsentDeps,
  onboarding: Onboarding,
  browserKey: string,
  profiles: readonly Profile[],
): Promise<string> {
  const first = appsToConsent(deps, onboarding)[0]!;
  return adminConsentUrl(deps, onboarding, first.clientId, null, browserKey, profiles);
}

/**
 * After the consent of the app `binding` names came back from `tenant`: the next app's consent URL, or
 * undefined after the last. The apps after the first are consented in the tenant the first came back from
 * (still only a claim: the sign-in after the last binds it); another tenant's consent in between is refused.
 */
export async function nextConsentUrl(
  deps: ConsentDeps,
  onboarding: Onboarding,
  binding: UsedState,
  tenant: string,
): Promise<string | undefined> {
  if (binding.tenantId !== null && binding.tenantId !== tenant) throw new ConsentFailure('tenantMismatch');
  const apps = appsToConsent(deps, onboarding);
  const at = apps.findIndex((a) => a.clientId === (binding.app ?? deps.apps.home.clientId));
  const next = at >= 0 ? apps[at + 1] : undefined;
  if (!next) return undefined;
  const profiles = onboarding.profiles.map((n) => deps.profiles.get(n)).filter((p) => p !== undefined);
  return adminConsentUrl(deps, onboarding, next.clientId, tenant, binding.browserKey, profiles);
}

/**
 * The apps whose consent an onboarding needs: its profiles' bundles, in bundle order (the home app alone in a
 * deployment of one bundle, or for an onboarding whose profiles the file no longer has).
 */
function appsToConsent(deps: ConsentDeps, onboarding: Onboarding): readonly { readonly clientId: string }[] {
  const apps = deps.apps.forProfiles(onboarding.profiles);
  return apps.length ? apps : [deps.apps.home];
}

/**
 * Entra's admin-consent URL of one bundle app, with a fresh state bound to the onboarding, this browser and
 * the app. `tenantId`: the tenant an earlier app's consent came back from, for the apps after the first: asked
 * at that tenant's own endpoint, so that the admin is not offered another account.
 */
async function adminConsentUrl(
  deps: ConsentDeps,
  onboarding: Onboarding,
  app: string,
  tenantId: string | null,
  browserKey: string,
  profiles: readonly Profile[],
): Promise<string> {
  const state = await deps.states.issue(
    { purpose: 'consent', onboardingId: onboarding.id, tenantId, silent: false, app },
    deps.settings.stateTtlSeconds,
    browserKey,
  );
  // v2 admin consent (FACTS.md §1.1): `organizations`, never `common`; a `/.default` scope consents to every
  // permission the app registration asks for, whichever resource it names.
  const url = new URL(`${deps.settings.entraAuthorityHost}/${tenantId ?? 'organizations'}/v2.0/adminconsent`);
  url.searchParams.set('client_id', app);
  // Any of the app's resources (a profile removed from the file since: the file's first); this cloud's URI.
  const scope = (profiles[0]?.resource ?? deps.profiles.resources.values().next().value)?.scope;
  url.searchParams.set('scope', scope ?? '');
  url.searchParams.set('redirect_uri', `${deps.settings.publicUrl}/consent/callback`);
  url.searchParams.set('state', state);
  return url.toString();
}
