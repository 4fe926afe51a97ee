/**
 * The device-code flow for appliances whose firmware has it (OpenScape Business: "Allow public client flows"),
 * shaped as Entra's (https://learn.microsoft.com/entra/identity-platform/v2-oauth2-device-code, RFC 8628) so
 * that firmware changes only the host:
 * - `POST /{tenant}/oauth2/v2.0/devicecode` (`client_id`, `scope`): a pending mailbox grant of the appliance's
 *   tenant for the delegated profiles whose scopes were asked, answered with `device_code`, `user_code`,
 *   `verification_uri` (the broker's page `/device`), `expires_in` 900, `interval` 5 and `message`.
 * - The user opens the page, enters the code, sees what the device may do and signs in at Microsoft
 *   (src/grants/device-verification.ts; the sign-in and its return are a grant's: src/grants/grant-sign-in.ts).
 * - The device polls `grant_type=urn:ietf:params:oauth:grant-type:device_code` with `device_code`:
 *   `authorization_pending` until then (`slow_down`, interval + 5 s, when it polls faster than its interval:
 *   RFC 8628 §3.5 — Entra's page does not list it), `expired_token` after 15 min, `authorization_declined` when
 *   the user declined at Microsoft, `bad_verification_code` for a code not its own; then once the access token
 *   and the grant's broker handle as `refresh_token` — never Microsoft's refresh token.
 * A public client (auth method `none`) names itself by `client_id` only, and may use only this flow and the
 * handles it yields (src/vending/delegated.ts); a confidential appliance authenticates as at the token endpoint.
 * @module
 */
import { RowChanged } from '../adapters/tables/port.js';
import { grantKey } from '../directory/change-journal.js';
import type { GrantDeps } from '../grants/grants.js';
import {
  createMailboxGrant,
  DEVICE_CODE_TTL_SECONDS,
  DEVICE_POLL_INTERVAL_SECONDS,
  GrantRefused,
} from '../grants/grants.js';
import { handleAad } from '../grants/grant-sign-in.js';
import { effectiveGrantStatus } from '../grants/grant-store.js';
import type { Custody } from '../grants/custody.js';
import {
  applianceTenant,
  delegatedScope,
  grantClient,
  OIDC_SCOPES,
  type DelegatedTokenResponse,
  type DelegatedVendDeps,
} from './delegated.js';
import { DeviceFlowError, InvalidGrant, InvalidRequest, InvalidScope } from './errors.js';
import type { TokenRequest } from './issue.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
/**
 * The grant type as MSAL sends it (`grant_type=device_code`: msal-common `GrantType.DEVICE_CODE_GRANT`, seen on
 * the wire from msal-node 7 in test/integration/firmware-host-only.test.ts), which Entra accepts beside RFC 8628's.
 */
export const DEVICE_CODE_GRANT_TYPES: ReadonlySet<string> = new Set([DEVICE_CODE_GRANT, 'device_code']);
export const DEVICE_VERIFICATION_PATH = '/device';

export interface DeviceFlowDeps extends DelegatedVendDeps, Omit<GrantDeps, 'grants' | 'profiles' | 'now'> {
  readonly custody: Custody;
  /** When each device code was last polled on this instance (RFC 8628 §3.5 `slow_down`). */
  readonly devicePolls: DevicePolls;
}

/** RFC 8628 §3.2 answer, as Entra gives it. */
export interface DeviceAuthorizationResponse {
  readonly device_code: string;
  readonly user_code: string;
  readonly verification_uri: string;
  readonly expires_in: number;
  readonly interval: number;
  readonly message: string;
}

/** `POST /{tenant}/oauth2/v2.0/devicecode`. */
export async function startDeviceAuthorization(
  deps: DeviceFlowDeps,
  req: TokenRequest,
): Promise<DeviceAuthorizationResponse> {
  const appliance = await grantClient(deps, req);
  const tenantId = applianceTenant(appliance, req);
  const asked = (req.form.get('scope') ?? '')
    .split(/ +/)
    .filter((s) => s && !OIDC_SCOPES.has(s.toLowerCase()));
  if (asked.length === 0)
    throw new InvalidScope('scope is required: the delegated scopes the device needs (e.g. SMTP.Send).');
  // The appliance's delegated profiles that carry a scope asked for; every scope asked must be one of theirs.
  const offered = appliance.profiles.flatMap((name) => {
    const p = deps.profiles.get(name);
    return p?.kind === 'delegated' ? [p] : [];
  });
  const chosen = new Set<string>();
  for (const scope of asked) {
    const owner = offered.find((p) =>
      delegatedScope(
        deps.profiles,
        p.scopes.map((s) => s.tokenScope),
        scope,
      ),
    );
    if (!owner)
      throw new InvalidScope(
        `${scope} is not a delegated scope of this appliance's profiles (${offered.map((p) => p.name).join(', ') || 'none'}).`,
      );
    chosen.add(owner.name);
  }
  let device;
  try {
    ({ device } = await createMailboxGrant(
      { ...deps, grants: deps.mailboxGrants },
      { tenantId, applianceId: appliance.clientId, profiles: [...chosen] },
      { kind: 'appliance', id: appliance.clientId, name: appliance.customerRef },
      'device_code',
    ));
  } catch (err) {
    // The tenant's consent is not in place, or the like: the device can do nothing about it but say so.
    if (err instanceof GrantRefused) throw new InvalidGrant(err.message);
    throw err;
  }
  const uri = `${deps.publicUrl}${DEVICE_VERIFICATION_PATH}`;
  return {
    device_code: device!.deviceCode,
    user_code: device!.userCode,
    verification_uri: uri,
    expires_in: DEVICE_CODE_TTL_SECONDS,
    interval: DEVICE_POLL_INTERVAL_SECONDS,
    // Entra's wording (v2-oauth2-device-code "Device authorization response" example).
    message: `To sign in, use a web browser to open the page ${uri} and enter the code ${device!.userCode} to authenticate.`,
  };
}

/** `grant_type=urn:ietf:params:oauth:grant-type:device_code` at the token endpoint. */
export async function issueDeviceCodeToken(
  deps: DeviceFlowDeps,
  req: TokenRequest,
): Promise<DelegatedTokenResponse> {
  const appliance = await grantClient(deps, req);
  const tenantId = applianceTenant(appliance, req);
  const deviceCode = req.form.get('device_code');
  if (!deviceCode) throw new InvalidRequest('device_code is required.');
  const grant = /^[A-Za-z0-9_-]{43}$/.test(deviceCode)
    ? await deps.mailboxGrants.byDeviceCode(deviceCode)
    : undefined;
  // Another appliance's code is answered as an unknown one.
  if (
    !grant ||
    grant.flow !== 'device_code' ||
    grant.applianceId !== appliance.clientId ||
    grant.tenantId !== tenantId
  )
    throw new DeviceFlowError('bad_verification_code', 'The device_code was not recognised.');
  const status = effectiveGrantStatus(grant, deps.now());
  if (status === 'expired')
    throw new DeviceFlowError(
      'expired_token',
      'AADSTS70019: The code expired before the user signed in. Ask for a new code.',
    );
  if (status === 'pending') {
    const { early, interval } = deps.devicePolls.poll(grant.id, deps.now().getTime());
    if (early)
      throw new DeviceFlowError('slow_down', `Polling too often: wait ${interval} seconds between requests.`);
    throw new DeviceFlowError(
      'authorization_pending',
      'AADSTS70016: The user has not signed in yet. Poll again after the interval.',
    );
  }
  if (status === 'revoked' && grant.error?.code === 'authorization_declined')
    throw new DeviceFlowError('authorization_declined', 'The user declined the sign-in.');
  if (status !== 'active' || grant.handle === null)
    throw new InvalidGrant(
      grant.handleUsedAt !== null && status === 'active'
        ? 'The device_code was already used; use the refresh_token it gave.'
        : `The mailbox grant is ${status}.`,
    );
  const handle = await deps.custody.open(grant.handle, handleAad(grant.id));
  const scope = grant.profiles.flatMap((n) => deps.profiles.get(n)?.scopes ?? [])[0]?.tokenScope;
  if (!scope) throw new InvalidGrant('The mailbox grant allows no scope.');
  const token = await deps.grantTokens.get(grantKey(grant.tenantId, grant.id), scope);
  // Given once: from now on the device holds the handle, and the grant shows it no more.
  await deps.mailboxGrants
    .update({ ...grant, handle: null, handleUsedAt: deps.now().toISOString() })
    .catch((err: unknown) => {
      if (!(err instanceof RowChanged)) throw err;
    });
  deps.devicePolls.forget(grant.id);
  return {
    token_type: 'Bearer',
    access_token: token.accessToken,
    expires_in: Math.max(0, Math.floor((token.expiresOn.getTime() - deps.now().getTime()) / 1000)),
    scope,
    refresh_token: handle,
  };
}

/** Per device code, when it was polled last and the interval it must keep (in memory; per instance). */
export interface DevicePolls {
  /** Records a poll at `t` (ms): early when sooner than the interval (less 1 s of leeway), which then grows by 5 s. */
  poll(grantId: string, t: number): { early: boolean; interval: number };
  forget(grantId: string): void;
}

export function createDevicePolls(max = 10_000): DevicePolls {
  const polls = new Map<string, { at: number; interval: number }>();
  return {
    poll(grantId, t) {
      const last = polls.get(grantId);
      const early = last !== undefined && t - last.at < (last.interval - 1) * 1000;
      const interval = (last?.interval ?? DEVICE_POLL_INTERVAL_SECONDS) + (early ? 5 : 0);
      polls.delete(grantId);
      polls.set(grantId, { at: t, interval });
      if (polls.size > max) polls.delete(polls.keys().next().value!);
      return { early, interval };
    },
    forget: (grantId) => void polls.delete(grantId),
  };
}
