/**
 * Port errors from what Entra answered and from what MSAL threw: no MSAL error leaves the adapters
 * (msal.ts, msal-sign-in.ts). `PortErrorCarrier` takes a port error from our network client
 * (msal-network.ts) through MSAL, which rethrows AuthErrors from the network client unchanged.
 * @module
 */
import { AuthError, ServerError } from '@azure/msal-node';
import { EntraRefused, EntraUnavailable } from './port.js';
import type { EntraNetwork } from './msal-network.js';

/** Retry-After when Entra gives none: MSAL's own throttling default for 429 (ThrottlingUtils.mjs). */
export const DEFAULT_THROTTLE_SECONDS = 60;
/** Retry-After for network failures and 5xx without the header: a short, fixed pause. */
export const DEFAULT_UNAVAILABLE_SECONDS = 5;
const METADATA_FAILURES = new Set(['endpoints_resolution_error', 'openid_config_error']);

/** Carries a port error through MSAL, which rethrows AuthErrors from the network client unchanged. */
export class PortErrorCarrier extends AuthError {
  constructor(readonly portError: EntraUnavailable | EntraRefused) {
    super('network_error', '', portError.message);
    // AuthError resets the prototype to its own; restore ours so `instanceof` works.
    Object.setPrototypeOf(this, new.target.prototype);
  }
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP-date. */
export function parseRetryAfter(
  value: string | null | undefined,
  fallback: number,
  nowMs = Date.now(),
): number {
  if (!value) return fallback;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return fallback;
  return Math.max(0, Math.ceil((at - nowMs) / 1000));
}

/** First line of an Entra description ("AADSTSnnnn: text"), without trace/correlation trailer. */
function firstLine(description: unknown): string {
  return typeof description === 'string' ? (description.split(/\r?\n/)[0] ?? '') : '';
}

export function refusalFromBody(status: number, body: Record<string, unknown>): EntraRefused {
  const codes = Array.isArray(body.error_codes) ? body.error_codes : [];
  const line = firstLine(body.error_description);
  const aadsts = typeof codes[0] === 'number' ? String(codes[0]) : /^AADSTS(\d+)/.exec(line)?.[1];
  const error = typeof body.error === 'string' ? body.error : `http_${status}`;
  return new EntraRefused(aadsts, error, line || `Entra ID refused the request (HTTP ${status})`);
}

/** Maps whatever MSAL threw to a port error; never lets an MSAL error out. */
export function fromMsalError(err: unknown, network: EntraNetwork): Error {
  if (err instanceof PortErrorCarrier) return err.portError;
  if (err instanceof ServerError || (err instanceof AuthError && 'errorNo' in err)) {
    const e = err as AuthError & { errorNo?: string | number; status?: number };
    // MSAL's message: "Error(s): 7000229 - Timestamp: … - Description: AADSTS7000229: … - Correlation ID: …".
    const description = /Description: (.*?)(?:\r?\n| - Correlation ID:|$)/s.exec(e.errorMessage)?.[1] ?? '';
    const aadsts =
      e.errorNo !== undefined && e.errorNo !== '' ? String(e.errorNo) : /AADSTS(\d+)/.exec(description)?.[1];
    return new EntraRefused(aadsts, e.errorCode || 'server_error', description || e.errorCode);
  }
  // Authority resolution (AuthorityFactory.mjs) reports any failed metadata request as
  // `endpoints_resolution_error` (or `openid_config_error`): the network client kept the real cause.
  if (err instanceof AuthError && METADATA_FAILURES.has(err.errorCode))
    return (
      network.lastGetFailure ??
      new EntraUnavailable(DEFAULT_UNAVAILABLE_SECONDS, 'Entra ID metadata unavailable')
    );
  if (err instanceof AuthError)
    // Configuration problems (bad key, untrusted authority…): ours to fix, not retryable.
    return new EntraRefused(
      undefined,
      err.errorCode || 'client_error',
      `Entra ID client error: ${err.errorCode}`,
    );
  return new Error('Entra ID token request failed', { cause: err });
}
