/**
 * The customer's browser routes (SPEC.md "Customers"): `GET /connect/{code}`, `GET /connect/{code}/go`,
 * `GET /consent/callback`, `GET /consent/signin`, `POST /consent/confirm`. Each calls the framework-free flow (src/consent/flow.ts) and
 * renders its outcome as a page or a redirect; every failure is a page with the right status, never a stack
 * trace or unescaped input.
 * @module
 */
import { ConsentFailure } from '../consent/errors.js';
import { consentCallback, landing, signinCallback, startConsent } from '../consent/flow.js';
import { confirmAppliance } from '../consent/appliance-confirmation.js';
import type { ConsentDeps, ConsentOutcome } from '../consent/types.js';
import { BROKER_PROFILE } from '../consent/proof.js';
import {
  delegatedForOnboarding,
  grantedForOnboarding,
  bundleRegistration,
  homeAppRegistration,
  registrationForOnboarding,
} from '../profiles/registration.js';
import type { Logger } from './logger.js';
import { parseForm } from './form-body.js';
import { outageOf } from './outage.js';
import { confirmPage, consentResultPage, errorPageFor, landingPage, pageReply } from './pages/index.js';
import type { HttpReply, HttpRequestLike } from './types.js';

export interface ConsentHttpDeps extends ConsentDeps {
  readonly vendorName: string;
}

type Step = () => Promise<HttpReply>;

/** What the browser binding needs of the settings (the consent's and a mailbox grant's). */
interface BrowserSettings {
  readonly settings: { readonly publicUrl: string; readonly stateTtlSeconds: number };
}

/** Runs a step; renders the flow's refusals and outages as pages. */
export async function asPage(
  deps: Pick<ConsentHttpDeps, 'vendorName'>,
  log: Logger,
  step: Step,
): Promise<HttpReply> {
  try {
    return await step();
  } catch (err) {
    const details = { vendorName: deps.vendorName };
    if (err instanceof ConsentFailure) {
      return pageReply(
        errorPageFor(err.reason, {
          ...details,
          supportCode: err.supportCode,
          retryAfterSeconds: err.retryAfterSeconds,
        }),
      );
    }
    const outage = outageOf(err);
    if (outage) {
      log.warn(`consent page: ${outage.service} unavailable`);
      return pageReply(
        errorPageFor('temporarilyUnavailable', { ...details, retryAfterSeconds: outage.retryAfterSeconds }),
      );
    }
    // Only the error's class: a message could carry request data (a code, a state) into the logs.
    log.error(`consent page: unexpected ${err instanceof Error ? err.name : 'error'}`);
    return pageReply(errorPageFor('serverError', details));
  }
}

export function redirect(location: string, extra: Record<string, string> = {}): HttpReply {
  // The consent URLs carry codes and states: no caching, no Referer to the next site.
  return {
    status: 302,
    headers: { location, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer', ...extra },
  };
}

export const query = (request: HttpRequestLike) => new URL(request.url).searchParams;

/**
 * The cookie that binds a consent to the browser that started it (RFC 9700 §4.7, src/consent/state-store.ts).
 * Over https it is a `__Host-` cookie (Secure, Path=/, no Domain: no other host, not even a subdomain, can
 * set or overwrite it; RFC 6265bis §4.1.3.2); browsers refuse that prefix without Secure, so on an http
 * `BROKER_PUBLIC_URL` (only localhost is allowed, src/config.ts) it is a plain host-only cookie. HttpOnly
 * (no script reads it), SameSite=Lax: sent on the top-level GET redirects from Microsoft back to
 * `/consent/callback` and `/consent/signin`, never on cross-site subrequests or posts.
 */
export function consentCookieName(publicUrl: string): string {
  return publicUrl.startsWith('https:') ? '__Host-consent-browser' : 'consent-browser';
}

export function consentCookie(deps: BrowserSettings, key: string): string {
  const secure = deps.settings.publicUrl.startsWith('https:') ? '; Secure' : '';
  return `${consentCookieName(deps.settings.publicUrl)}=${key}; Path=/; Max-Age=${deps.settings.stateTtlSeconds}; HttpOnly; SameSite=Lax${secure}`;
}

/** The values the request's Cookie header(s) carry under the consent cookie's name (a few at most). */
export function browserKeys(deps: BrowserSettings, request: HttpRequestLike): string[] {
  return cookieValues(request, consentCookieName(deps.settings.publicUrl));
}

/** The values the request's Cookie header carries under `name` (at most 4; none from an oversized header). */
export function cookieValues(request: HttpRequestLike, name: string): string[] {
  const header = request.headers.get('cookie') ?? '';
  if (header.length > 8_192) return [];
  const keys: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) keys.push(part.slice(eq + 1).trim());
  }
  return keys.slice(0, 4);
}

/** `GET /connect/{code}` */
export function connectLanding(
  deps: ConsentHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    const code = request.params.code ?? '';
    const { onboarding, profiles } = await landing(deps, code);
    // `/.default` grants the whole registration of each app (FACTS.md §1.1): the page lists all of it, app by
    // app where the profiles need several bundles' apps.
    const needed = deps.profiles.bundlesFor(onboarding.profiles);
    const apps = (needed.length ? needed : [deps.profiles.bundles[0]!]).map((bundle) => ({
      title: bundle.title,
      permissions: registrationForOnboarding(bundleRegistration(deps.profiles, bundle), profiles),
    }));
    const registration = homeAppRegistration(deps.profiles);
    return pageReply(
      landingPage({
        vendorName: deps.vendorName,
        customerRef: onboarding.customerRef,
        profiles,
        permissions: apps.flatMap((a) => a.permissions),
        apps,
        signInScopes: registration.signInScopes,
        goUrl: `/connect/${encodeURIComponent(code)}/go`,
        expiresAt: new Date(onboarding.expiresAt),
      }),
    );
  });
}

/** `GET /connect/{code}/go` */
export function connectGo(deps: ConsentHttpDeps, request: HttpRequestLike, log: Logger): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    const [presented] = browserKeys(deps, request);
    const { location, browserKey } = await startConsent(deps, request.params.code ?? '', presented);
    return redirect(location, { 'set-cookie': consentCookie(deps, browserKey) });
  });
}

/** `GET /consent/callback` */
export function consentCallbackEndpoint(
  deps: ConsentHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () =>
    redirect(await consentCallback(deps, query(request), browserKeys(deps, request))),
  );
}

/** `GET /consent/signin` */
export function signinEndpoint(
  deps: ConsentHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    const result = await signinCallback(deps, query(request), browserKeys(deps, request));
    if ('redirect' in result) return redirect(result.redirect);
    return pageReply(resultPage(deps, result.outcome));
  });
}

/** Where the confirmation page posts. */
const CONFIRM_PATH = '/consent/confirm';

/**
 * `POST /consent/confirm`: the admin confirms the appliance the consent binds. Besides the form's state (bound
 * to this browser's cookie, which SameSite=Lax keeps off cross-site posts), a browser's `Origin` other than
 * the broker's own is refused outright (defence in depth against login CSRF, RFC 6749 §10.12).
 */
export function confirmEndpoint(
  deps: ConsentHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    // A page sent with `Referrer-Policy: no-referrer` posts with `Origin: null` (Fetch §3.2.5 "serializing a
    // request origin"): that, or no Origin at all, leaves the decision to the browser-bound state.
    const origin = request.headers.get('origin');
    if (origin !== null && origin !== 'null' && origin !== new URL(deps.settings.publicUrl).origin)
      throw new ConsentFailure('otherBrowser');
    let form: Map<string, string>;
    try {
      form = parseForm(await request.text(), request.headers.get('content-type'));
    } catch {
      throw new ConsentFailure('badParameters');
    }
    const outcome = await confirmAppliance(deps, form, browserKeys(deps, request));
    return pageReply(resultPage(deps, outcome));
  });
}

function resultPage(deps: ConsentHttpDeps, outcome: ConsentOutcome) {
  const { tenant } = outcome;
  if (outcome.kind === 'confirm') {
    return confirmPage({
      vendorName: deps.vendorName,
      tenantName: tenant.displayName,
      tenantId: tenant.tenantId,
      appliance: outcome.appliance,
      profiles: outcome.appliance.profiles.flatMap((name) => deps.profiles.get(name) ?? []),
      action: CONFIRM_PATH,
      state: outcome.confirmState,
    });
  }
  // The registrations of the apps this onboarding went through, as one (the home app's alone with one bundle).
  const needed = deps.profiles.bundlesFor(outcome.onboarding.profiles);
  const registration = needed.length
    ? bundleRegistration(deps.profiles, {
        name: 'consented',
        title: '',
        profiles: needed.flatMap((b) => b.profiles),
        home: false,
      })
    : homeAppRegistration(deps.profiles);
  const onboardingProfiles = outcome.onboarding.profiles.flatMap((name) => deps.profiles.get(name) ?? []);
  // The app roles the proof found, and the delegated scopes the same consent granted for every user (no
  // app-only token shows those: a user's sign-in does, at the first mailbox grant).
  const granted = [
    ...grantedForOnboarding(registration, onboardingProfiles, tenant.grantedRoles),
    ...delegatedForOnboarding(registration, onboardingProfiles),
  ];
  const missing = Object.entries(tenant.missingRoles).map(([profile, roles]) => ({
    profileTitle:
      profile === BROKER_PROFILE
        ? 'Tenant details for the vendor'
        : (deps.profiles.get(profile)?.title ?? profile),
    roles,
  }));
  return consentResultPage({
    outcome: outcome.kind,
    vendorName: deps.vendorName,
    tenantName: tenant.displayName,
    tenantId: tenant.tenantId,
    verifiedDomains: tenant.verifiedDomains,
    granted: outcome.kind === 'verifying' ? [] : granted,
    signInScopes: registration.signInScopes,
    missing: outcome.kind === 'verifying' ? [] : missing,
  });
}
