/**
 * The user's side of the device-code flow (src/vending/device-code.ts): the verification page's lookup of the
 * code the device shows. A code opens its grant while the grant waits for a sign-in (15 minutes); the sign-in
 * itself is a grant's (src/grants/grant-sign-in.ts `signInFor`), bound to the browser that started it. Unknown
 * codes are counted per address and, past the limit, refused for a while: with 20^8 codes, each alive 15
 * minutes, and 10 tries per 5 minutes per address, guessing a live code is out of reach.
 * @module
 */
import type { Appliance } from '../appliances/appliance-store.js';
import { ConsentFailure } from '../consent/errors.js';
import type { Profile } from '../profiles/profiles.js';
import { createAuthThrottle, DEFAULT_THROTTLE_LIMITS, type AuthThrottle } from '../vending/auth-throttle.js';
import { normalUserCode, USER_CODE_ENTERED, type MailboxGrant } from './grant-store.js';
import { usable, type GrantSignInDeps } from './grant-sign-in.js';

/** Failed code entries per address, per 5 minutes. */
export function createUserCodeThrottle(now?: () => number): AuthThrottle {
  return createAuthThrottle(
    { ...DEFAULT_THROTTLE_LIMITS, perAddress: 10, perClientAtAddress: 10, windowMs: 300_000 },
    now,
  );
}

export interface DeviceVerificationDeps extends Pick<GrantSignInDeps, 'grants' | 'profiles' | 'now'> {
  readonly userCodes: AuthThrottle;
  readonly appliances: { get(clientId: string): Promise<Appliance | undefined> };
}

/** The grant a user code opens, its profiles, and the device asking (its customer reference). */
export async function deviceLanding(
  deps: DeviceVerificationDeps,
  userCode: string,
  address: string | undefined,
): Promise<{ grant: MailboxGrant; profiles: Profile[]; device: string }> {
  if (deps.userCodes.blockedFor(undefined, address) > 0) throw new ConsentFailure('tooManyAttempts');
  const typed = userCode.trim();
  const grant = USER_CODE_ENTERED.test(typed)
    ? await deps.grants.byUserCode(normalUserCode(typed))
    : undefined;
  if (!grant || grant.flow !== 'device_code') {
    deps.userCodes.failure(undefined, address);
    throw new ConsentFailure('userCodeUnknown');
  }
  let found;
  try {
    found = usable(deps, grant);
  } catch (err) {
    // A code past its 15 minutes is, to the user, a code no device waits for.
    if (err instanceof ConsentFailure && err.reason === 'linkExpired')
      throw new ConsentFailure('userCodeUnknown');
    throw err;
  }
  const appliance = await deps.appliances.get(grant.applianceId);
  return { ...found, device: appliance?.customerRef ?? grant.applianceId };
}
