/**
 * The administrator's browser routes of a PBX's self-enrollment (src/http/routes/customers.ts `enrollmentRoutes`,
 * src/appliances/enrollment.ts): `GET /enroll` (the code form, or with `?user_code=` what the device asks for)
 * and `GET /enroll/go?user_code=` (Microsoft's admin consent for the device's onboarding, bound to this browser;
 * from there the consent flow's own routes and its confirmation page).
 * @module
 */
import {
  beginEnrollmentSignIn,
  ENROLLMENT_PATH,
  enrollmentLanding,
  type EnrollmentDeps,
} from '../appliances/enrollment.js';
import {
  asPage,
  browserKeys,
  consentCookie,
  query,
  redirect,
  type ConsentHttpDeps,
} from './consent-endpoints.js';
import type { Logger } from './logger.js';
import { enrollmentLandingPage } from './pages/enrollment-pages.js';
import { deviceCodePage } from './pages/grant-pages.js';
import { pageReply } from './pages/index.js';
import { sourceAddress } from './token-endpoint.js';
import type { HttpReply, HttpRequestLike } from './types.js';

export type EnrollmentHttpDeps = EnrollmentDeps & ConsentHttpDeps;

/** `GET /enroll[?user_code=]` */
export function enrollEndpoint(
  deps: EnrollmentHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    const userCode = query(request).get('user_code');
    if (userCode === null || userCode.trim() === '')
      return pageReply(
        deviceCodePage({ action: ENROLLMENT_PATH, purpose: 'to connect it to your organization' }),
      );
    const { enrollment, profiles } = await enrollmentLanding(deps, userCode, sourceAddress(request));
    return pageReply(
      enrollmentLandingPage({
        vendorName: deps.vendorName,
        userCode: userCode.trim().toUpperCase(),
        customerRef: enrollment.customerRef,
        profiles,
        goUrl: `${ENROLLMENT_PATH}/go?${new URLSearchParams({ user_code: userCode.trim() })}`,
        expiresAt: new Date(enrollment.expiresAt),
      }),
    );
  });
}

/** `GET /enroll/go?user_code=` */
export function enrollGoEndpoint(
  deps: EnrollmentHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    const [presented] = browserKeys(deps, request);
    const { location, browserKey } = await beginEnrollmentSignIn(
      deps,
      query(request).get('user_code') ?? '',
      sourceAddress(request),
      presented,
    );
    return redirect(location, { 'set-cookie': consentCookie(deps, browserKey) });
  });
}
