/**
 * The PBX's "Authorize" button (SPEC.md "Appliances"): `POST /appliance/onboardings` creates an onboarding
 * bound to the calling appliance (authenticated as at the token endpoint; the body may be empty) and answers
 * `{id, consentUrl, expiresAt}`; `GET /appliance/onboardings/{id}` lets the appliance poll it and learn its
 * tenant id and granted roles once an admin has consented. The GET carries the credential in the
 * Authorization header: `Basic` for a client secret, or `Bearer <client assertion>` for private_key_jwt.
 * Both authenticate as the token endpoint does, behind the same failed-authentication throttle
 * (src/vending/authenticate.ts): a made-up client id costs a directory read only until its source is
 * blocked. Errors are problem+json; failed client authentication is 401 with WWW-Authenticate, a blocked
 * source or (client id, source) 429 with Retry-After.
 * @module
 */
import { createOnboarding } from '../consent/onboardings.js';
import type { ConsentSettings } from '../consent/types.js';
import type { OnboardingStore } from '../consent/onboarding-store.js';
import type { AuditLog } from '../audit/audit-log.js';
import { authenticate, type ThrottledAuthDeps } from '../vending/authenticate.js';
import { JWT_BEARER } from '../vending/client-auth.js';
import { OAuthError } from '../vending/errors.js';
import { readForm } from './form-body.js';
import { outageOf } from './outage.js';
import { sourceAddress } from './token-endpoint.js';
import { onboardingView } from './onboardings-api.js';
import { notFound, Problem, problemReply, serviceUnavailable, toProblem } from './problem.js';
import type { Logger } from './logger.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';
import { GUID } from '../ids.js';

export interface ApplianceOnboardingDeps extends ThrottledAuthDeps {
  readonly settings: ConsentSettings;
  readonly onboardings: OnboardingStore;
  readonly audit: AuditLog;
}

const TITLES: Readonly<Record<number, string>> = {
  401: 'Unauthorized',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
};

export async function asAppliance(log: Logger, step: () => Promise<HttpReply>): Promise<HttpReply> {
  try {
    return await step();
  } catch (err) {
    if (err instanceof OAuthError) {
      return problemReply(
        new Problem({
          status: err.status === 500 ? 500 : err.status,
          title: TITLES[err.status] ?? 'Bad Request',
          detail: err.description,
          extensions: { error: err.code },
          headers: {
            ...err.headers,
            ...(err.status === 401
              ? { 'www-authenticate': 'Basic realm="consent-broker", charset="UTF-8"' }
              : {}),
          },
        }),
      );
    }
    const outage = outageOf(err);
    if (outage) {
      return problemReply(
        serviceUnavailable(
          `The broker cannot reach ${outage.service} right now; retry shortly.`,
          outage.retryAfterSeconds,
        ),
      );
    }
    const problem = toProblem(err);
    if (problem.status >= 500)
      log.error(`appliance onboarding: ${err instanceof Error ? err.name : 'error'}`);
    return problemReply(problem);
  }
}

/**
 * An appliance's GET: its credential in the Authorization header, `Basic` for a client secret or `Bearer <client
 * assertion>` for private_key_jwt, authenticated as at the token endpoint.
 */
export function authenticateGet(deps: ThrottledAuthDeps, request: HttpRequestLike) {
  const authorization = request.headers.get('authorization');
  const bearer = authorization ? /^Bearer +(\S+)$/i.exec(authorization.trim())?.[1] : undefined;
  return authenticate(
    deps,
    bearer
      ? {
          authorization: null,
          form: new Map([
            ['client_assertion_type', JWT_BEARER],
            ['client_assertion', bearer],
          ]),
          sourceAddress: sourceAddress(request),
        }
      : { authorization, form: new Map(), sourceAddress: sourceAddress(request) },
  );
}

/** `POST /appliance/onboardings` */
export function postApplianceOnboarding(
  deps: ApplianceOnboardingDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asAppliance(log, async () => {
    const form = await readForm(request, { allowEmpty: true });
    const { appliance } = await authenticate(deps, {
      authorization: request.headers.get('authorization'),
      form,
      sourceAddress: sourceAddress(request),
    });
    const { onboarding, consentUrl } = await createOnboarding(
      deps,
      { customerRef: appliance.customerRef, applianceId: appliance.clientId, profiles: appliance.profiles },
      { kind: 'appliance', id: appliance.clientId },
    );
    return jsonReply(
      201,
      { id: onboarding.id, consentUrl, expiresAt: onboarding.expiresAt },
      {
        'cache-control': 'no-store',
        location: `/appliance/onboardings/${onboarding.id}`,
      },
    );
  });
}

/** `GET /appliance/onboardings/{id}` */
export function getApplianceOnboarding(
  deps: ApplianceOnboardingDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asAppliance(log, async () => {
    const { appliance } = await authenticateGet(deps, request);
    const id = request.params.id ?? '';
    const onboarding = GUID.test(id) ? await deps.onboardings.get(id.toLowerCase()) : undefined;
    // Another appliance's onboarding is answered like a missing one.
    if (!onboarding || onboarding.applianceId !== appliance.clientId)
      throw notFound('No such onboarding for this appliance.');
    const view = onboardingView(onboarding, deps.now());
    // The tenant and its roles only once its admin confirmed this appliance: an admin
    // who consented through someone else's link and did not confirm discloses nothing to that appliance.
    // Nor to an appliance bound to another tenant, whose onboarding another tenant's admin completed: it
    // stays where it is (flow.ts applianceToBind) and learns nothing of that tenant.
    const disclosed =
      onboarding.confirmedBy !== null ||
      (onboarding.tenantId !== null && appliance.tenantId === onboarding.tenantId);
    return jsonReply(
      200,
      {
        id: view.id,
        status: view.status,
        expiresAt: view.expiresAt,
        tenantId: disclosed ? view.tenantId : null,
        progress: view.progress,
        grantedRoles: disclosed ? view.grantedRoles : null,
        missingRoles: disclosed ? view.missingRoles : null,
        error: view.error,
      },
      { 'cache-control': 'no-store' },
    );
  });
}
