/**
 * Client authentication behind the failed-authentication throttle, for every route an appliance
 * authenticates on: the token endpoint (src/vending/issue.ts) and `POST` / `GET /appliance/onboardings`
 * (src/http/appliance-onboardings.ts), so that none of them lets a made-up client id cost a table read or a
 * keyed hash without being counted.
 *
 * The order, and why:
 * 1. Credentials this instance verified before (src/vending/warm-path.ts) name their appliance.
 * 2. If the source address, or that client id at that source address, is blocked (src/vending/auth-throttle.ts),
 *    the answer is 429 + Retry-After before any credential is checked, valid or not. Checking the
 *    credential of a blocked key and serving it when valid would be an oracle: the attacker at that key
 *    would learn the right secret among unlimited guesses, at one hash each. The blocks are kept at the
 *    attacker's own keys instead: failures are never counted per client id alone, so sending wrong secrets
 *    for a client id from elsewhere does not block its PBX, whose (client id, source) has no failures and
 *    whose credential is checked and served as always.
 * 3. Otherwise the full check (src/vending/client-auth.ts); only its `invalid_client` refusals are counted,
 *    for the source and for (client id, source). A valid credential is never counted.
 * @module
 */
import type { AuthThrottle } from './auth-throttle.js';
import {
  authenticateClient,
  claimedClientId,
  rememberedClient,
  type AuthenticatedClient,
  type ClientAuthDeps,
} from './client-auth.js';
import { InvalidClient, TooManyFailedAuthentications } from './errors.js';

export interface ThrottledAuthDeps extends ClientAuthDeps {
  /** Slows down repeated failed client authentication per source address and (client id, source). */
  readonly throttle?: AuthThrottle;
}

export interface AuthRequest {
  readonly authorization: string | null;
  readonly form: ReadonlyMap<string, string>;
  /** The caller's address (src/http/token-endpoint.ts `sourceAddress`), for throttling. */
  readonly sourceAddress?: string | undefined;
}

export async function authenticate(deps: ThrottledAuthDeps, req: AuthRequest): Promise<AuthenticatedClient> {
  // Basic credentials verified before, for an unchanged appliance (no keyed hash again).
  const remembered = rememberedClient(deps, req.authorization, req.form);
  if (remembered) {
    const wait = deps.throttle?.blockedFor(remembered.appliance.clientId, req.sourceAddress) ?? 0;
    if (wait > 0) throw new TooManyFailedAuthentications(wait);
    return remembered;
  }
  if (!deps.throttle) return authenticateClient(deps, req.authorization, req.form);
  const claimed = claimedClientId(req.authorization, req.form);
  const wait = deps.throttle.blockedFor(claimed, req.sourceAddress);
  if (wait > 0) throw new TooManyFailedAuthentications(wait);
  try {
    return await authenticateClient(deps, req.authorization, req.form);
  } catch (err) {
    if (err instanceof InvalidClient) deps.throttle.failure(claimed, req.sourceAddress);
    throw err;
  }
}
