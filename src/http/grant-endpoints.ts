/**
 * A mailbox user's browser routes (src/http/routes/customers.ts `grantRoutes`): `GET /mailbox-grants/{grantCode}`,
 * `GET /mailbox-grants/{grantCode}/go`, `GET /mailbox-grants/callback`. Each calls src/grants/grant-sign-in.ts and
 * renders its outcome as a page or a redirect, with the consent flow's browser binding and error pages
 * (src/http/consent-endpoints.ts).
 * @module
 */
import {
  grantCallback,
  grantLanding,
  signInFor,
  startGrantSignIn,
  type GrantSignInDeps,
} from '../grants/grant-sign-in.js';
import { deviceLanding, type DeviceVerificationDeps } from '../grants/device-verification.js';
import { DEVICE_VERIFICATION_PATH } from '../vending/device-code.js';
import { sourceAddress } from './token-endpoint.js';
import { asPage, browserKeys, consentCookie, query, redirect } from './consent-endpoints.js';
import type { Logger } from './logger.js';
import { deviceCodePage, grantLandingPage, grantResultPage } from './pages/grant-pages.js';
import { pageReply } from './pages/index.js';
import type { HttpReply, HttpRequestLike } from './types.js';

export interface GrantHttpDeps
  extends GrantSignInDeps, Omit<DeviceVerificationDeps, 'grants' | 'profiles' | 'now'> {
  readonly vendorName: string;
}

/** `GET /mailbox-grants/{grantCode}` */
export function grantLandingEndpoint(
  deps: GrantHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    const code = request.params.grantCode ?? '';
    const { grant, profiles } = await grantLanding(deps, code);
    return pageReply(
      grantLandingPage({
        vendorName: deps.vendorName,
        mailbox: grant.mailbox,
        profiles,
        goUrl: `/mailbox-grants/${encodeURIComponent(code)}/go`,
        expiresAt: new Date(grant.expiresAt),
      }),
    );
  });
}

/** `GET /mailbox-grants/{grantCode}/go` */
export function grantGoEndpoint(
  deps: GrantHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    const [presented] = browserKeys(deps, request);
    const { location, browserKey } = await startGrantSignIn(deps, request.params.grantCode ?? '', presented);
    return redirect(location, { 'set-cookie': consentCookie(deps, browserKey) });
  });
}

/** `GET /mailbox-grants/callback` */
export function grantCallbackEndpoint(
  deps: GrantHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    const grant = await grantCallback(deps, query(request), browserKeys(deps, request));
    return pageReply(
      grantResultPage({
        vendorName: deps.vendorName,
        userPrincipalName: grant.user?.userPrincipalName ?? '',
        profiles: grant.profiles.flatMap((n) => deps.profiles.get(n) ?? []),
        device: grant.flow === 'device_code',
      }),
    );
  });
}

/**
 * `GET /device`: the device-code flow's verification page (src/vending/device-code.ts); with `?user_code=` the
 * page of the grant that code opens (what the device may do, the device named), or why not.
 */
export function deviceEndpoint(
  deps: GrantHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    const userCode = query(request).get('user_code');
    if (userCode === null || userCode.trim() === '')
      return pageReply(deviceCodePage({ action: DEVICE_VERIFICATION_PATH }));
    const { grant, profiles, device } = await deviceLanding(deps, userCode, sourceAddress(request));
    return pageReply(
      grantLandingPage({
        vendorName: deps.vendorName,
        mailbox: grant.mailbox,
        profiles,
        device,
        goUrl: `${DEVICE_VERIFICATION_PATH}/go?${new URLSearchParams({ user_code: userCode.trim() })}`,
        expiresAt: new Date(grant.expiresAt),
      }),
    );
  });
}

/** `GET /device/go?user_code=`: Microsoft's sign-in for the grant the code opens, bound to this browser. */
export function deviceGoEndpoint(
  deps: GrantHttpDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asPage(deps, log, async () => {
    const [presented] = browserKeys(deps, request);
    const found = await deviceLanding(deps, query(request).get('user_code') ?? '', sourceAddress(request));
    const { location, browserKey } = await signInFor(deps, found, presented);
    return redirect(location, { 'set-cookie': consentCookie(deps, browserKey) });
  });
}
