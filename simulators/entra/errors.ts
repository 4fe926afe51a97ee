/**
 * Entra ID's error answers: the OAuth JSON body of the token and metadata endpoints, the HTML error page of
 * the browser endpoints, and the query of an error redirect. Every AADSTS description ends with the
 * `\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …` trailer, and the JSON repeats code, ids and time
 * in `error_codes`, `trace_id`, `correlation_id`, `timestamp` and `error_uri` (FACTS.md §2, E-ERR).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { SimResponse } from '../common/server.js';

/** RFC 6749 §5.2 codes plus those Entra adds (E-ERR). */
export type EntraErrorCode =
  | 'invalid_request'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'invalid_client'
  | 'unsupported_grant_type'
  | 'invalid_resource'
  | 'invalid_scope'
  | 'invalid_tenant'
  | 'invalid_instance'
  | 'interaction_required'
  | 'temporarily_unavailable'
  | 'server_error'
  // The device-code grant's (v2-oauth2-device-code "Expected errors").
  | 'authorization_pending'
  | 'authorization_declined'
  | 'bad_verification_code'
  | 'expired_token';

/** A refusal as Entra words it: HTTP status, OAuth `error`, AADSTS number and message. */
export class EntraError extends Error {
  constructor(
    readonly status: number,
    readonly error: EntraErrorCode,
    readonly aadsts: number | undefined,
    readonly description: string,
    /** Entra's `suberror` (e.g. `basic_action` for an MFA step, as MSAL reads it); absent for most. */
    readonly suberror?: string,
  ) {
    super(description);
    this.name = new.target.name;
  }
}

/** `2016-01-09 02:02:12Z`, the timestamp format of Entra's error bodies (E-ERR sample). */
export function entraTimestamp(ms = Date.now()): string {
  return new Date(ms)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

export interface ErrorTrailer {
  readonly traceId: string;
  readonly correlationId: string;
  readonly timestamp: string;
}

export function newTrailer(correlationId?: string): ErrorTrailer {
  return { traceId: randomUUID(), correlationId: correlationId ?? randomUUID(), timestamp: entraTimestamp() };
}

/** `AADSTSnnnn: text\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …` (E-ERR, E-ADMIN). */
export function describe(aadsts: number | undefined, text: string, t: ErrorTrailer): string {
  const head = aadsts === undefined ? text : `AADSTS${aadsts}: ${text}`;
  return `${head}\r\nTrace ID: ${t.traceId}\r\nCorrelation ID: ${t.correlationId}\r\nTimestamp: ${t.timestamp}`;
}

/** The JSON error body of the token, metadata and discovery endpoints (FACTS.md §2). */
export function oauthErrorResponse(err: EntraError, correlationId?: string): SimResponse {
  const t = newTrailer(correlationId);
  const body: Record<string, unknown> = {
    error: err.error,
    error_description: describe(err.aadsts, err.description, t),
    error_codes: err.aadsts === undefined ? [] : [err.aadsts],
    timestamp: t.timestamp,
    trace_id: t.traceId,
    correlation_id: t.correlationId,
  };
  if (err.aadsts !== undefined) body.error_uri = `https://login.microsoftonline.com/error?code=${err.aadsts}`;
  if (err.suberror !== undefined) body.suberror = err.suberror;
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store, no-cache',
    pragma: 'no-cache',
    'x-ms-request-id': t.traceId,
  };
  // RFC 6749 §5.2: a 401 for client authentication answers with WWW-Authenticate. Entra's own header text
  // is not documented; this is the RFC 6750 form.
  if (err.status === 401) headers['www-authenticate'] = 'Bearer realm="", error="invalid_client"';
  return { status: err.status, headers, body };
}

/** Entra's sign-in error page: "Sorry, but we're having trouble signing you in." plus the AADSTS line. */
export function htmlErrorPage(err: EntraError): SimResponse {
  const t = newTrailer();
  const code = err.aadsts === undefined ? '' : `AADSTS${err.aadsts}: `;
  const body = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in to your account</title></head>
<body>
<main>
<h1>Sorry, but we’re having trouble signing you in.</h1>
<p id="error-message">${escapeHtml(code + err.description)}</p>
<dl id="troubleshooting">
<dt>Request Id</dt><dd>${t.traceId}</dd>
<dt>Correlation Id</dt><dd>${t.correlationId}</dd>
<dt>Timestamp</dt><dd>${t.timestamp}</dd>
</dl>
</main>
</body></html>`;
  return {
    status: err.status,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store, no-cache' },
    body,
  };
}

export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/**
 * The body for a status the server layer produces (faults, unknown paths, oversized bodies). Entra answers
 * throttling and outages with `temporarily_unavailable` (E-ERR lists the value); the AADSTS numbers are the
 * closest E-ERR entries and **unverified** as the live service's choice: 90055 TenantThrottlingError
 * ("too many incoming requests") for 429, 90033 ("a transient error has occurred") for 5xx.
 */
export function entraErrorBodyFor(status: number, message: string): SimResponse {
  if (status === 429)
    return oauthErrorResponse(
      new EntraError(
        429,
        'temporarily_unavailable',
        90055,
        'There are too many incoming requests. Please try again later.',
      ),
    );
  if (status >= 500)
    return oauthErrorResponse(
      new EntraError(
        status,
        status === 500 ? 'server_error' : 'temporarily_unavailable',
        90033,
        `A transient error has occurred. Please try again. (${message})`,
      ),
    );
  if (status === 405)
    // E-ERR 900561: "The endpoint only accepts {valid_verbs} requests. Received a {invalid_verb} request."
    return oauthErrorResponse(
      new EntraError(
        405,
        'invalid_request',
        900561,
        `The endpoint only accepts POST, OPTIONS requests. Received a different request. (${message})`,
      ),
    );
  return oauthErrorResponse(new EntraError(status, 'invalid_request', undefined, message));
}
