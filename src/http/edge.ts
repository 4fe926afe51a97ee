/**
 * The edge every staff route shares (SPEC.md "Vendor support"): authenticate the staff token for the route's
 * role (RFC 6750 §3 refusals), run the domain action, and render every failure as problem+json — an outage
 * through the one outage map (src/http/outage.ts), a domain refusal through src/http/problem.ts.
 * Framework-free: the Functions HttpRequest satisfies HttpRequestLike.
 * @module
 */
import { InvalidContinuationToken } from '../adapters/tables/port.js';
import {
  StaffAuthError,
  type StaffAuthenticator,
  type StaffPrincipal,
  type StaffRole,
} from '../support/staff-auth.js';
import type { Profiles } from '../profiles/profiles.js';
import type { Logger } from './logger.js';
import { outageOf } from './outage.js';
import { badRequest, Problem, problemReply, serviceUnavailable, toProblem } from './problem.js';
import type { HttpReply, HttpRequestLike } from './types.js';

type SupportAction = (principal: StaffPrincipal) => Promise<HttpReply>;

/** Runs `action` for a caller holding `role`; every failure becomes problem+json. */
export async function asStaff(
  deps: { readonly staffAuth: StaffAuthenticator },
  request: HttpRequestLike,
  role: StaffRole,
  log: Logger,
  action: SupportAction,
): Promise<HttpReply> {
  try {
    const principal = await authenticate(deps.staffAuth, request, role);
    return await action(principal);
  } catch (err) {
    const problem = fromDomainError(err);
    if (problem.status >= 500)
      log.error(
        `support API ${request.method} ${new URL(request.url).pathname} failed:`,
        err instanceof Error ? err.name : 'error',
      );
    return problemReply(problem);
  }
}

async function authenticate(
  auth: StaffAuthenticator,
  request: HttpRequestLike,
  role: StaffRole,
): Promise<StaffPrincipal> {
  try {
    return await auth.authenticate(request.headers.get('authorization'), role);
  } catch (err) {
    if (!(err instanceof StaffAuthError)) throw err;
    // RFC 6750 §3: WWW-Authenticate on 401, error="insufficient_scope" with 403.
    const realm = 'realm="consent-broker"';
    switch (err.failure) {
      case 'missing':
        throw new Problem({
          status: 401,
          title: 'Unauthorized',
          detail: err.message,
          headers: { 'www-authenticate': `Bearer ${realm}` },
        });
      case 'malformed':
        throw new Problem({
          status: 401,
          title: 'Unauthorized',
          detail: err.message,
          headers: { 'www-authenticate': `Bearer ${realm}, error="invalid_request"` },
        });
      case 'invalid':
        throw new Problem({
          status: 401,
          title: 'Unauthorized',
          detail: err.message,
          headers: { 'www-authenticate': `Bearer ${realm}, error="invalid_token"` },
        });
      case 'forbidden':
        throw new Problem({
          status: 403,
          title: 'Forbidden',
          detail: err.message,
          headers: { 'www-authenticate': `Bearer ${realm}, error="insufficient_scope"` },
        });
    }
  }
}

function fromDomainError(err: unknown): Problem {
  const outage = outageOf(err);
  if (outage)
    return serviceUnavailable(
      `${outage.service} is unavailable; try again shortly.`,
      outage.retryAfterSeconds,
    );
  if (err instanceof InvalidContinuationToken)
    return badRequest('continuationToken is not one this API issued.');
  return toProblem(err);
}

/** A `profile` filter names a profile of the profiles file; else a 400 naming the known ones. */
export function assertKnownProfile(profiles: Profiles, name: string): void {
  if (!profiles.get(name))
    throw badRequest(`Unknown profile "${name}"; known: ${[...profiles.profiles.keys()].join(', ')}.`);
}
