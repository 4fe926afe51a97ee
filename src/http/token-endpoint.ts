/**
 * `POST /oauth2/token` and `POST /{tenant}/oauth2/v2.0/token` (SPEC.md "Appliances"), and the RFC 8414
 * metadata. The body is read strictly (RFC 6749 §3.2: form-encoded, each parameter at most once; §3.1: an
 * empty parameter counts as absent); answers follow §5.1 and §5.2 with `Cache-Control: no-store`. Nothing of
 * the request's credentials reaches a log, an error or a metric: metrics carry only the resource scope of a
 * vended token and the error code of a refusal (src/adapters/telemetry/port.ts).
 * @module
 */
import type { Profiles } from '../profiles/profiles.js';
import { OAuthError, TemporarilyUnavailable } from '../vending/errors.js';
import { isFormContentType, parseForm } from './form-body.js';
import {
  issueToken,
  vendFromMemory,
  type TokenRequest,
  type VendDeps,
  type Vended,
} from '../vending/issue.js';
import type { Logger } from './logger.js';
import { outageOf } from './outage.js';
import type { HttpReply, HttpRequestLike } from './types.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const TOKEN_HEADERS = Object.freeze({ 'content-type': 'application/json; charset=utf-8', ...NO_STORE });

/**
 * Whether each access token can go into the JSON answer as it is (a JWT: base64url segments and dots, nothing
 * JSON must escape), decided once per token rather than escaping 1-2 KB on every answer — that was most of
 * the warm path's own work (bench/). A token that would need escaping (never seen from Entra) gets its
 * escaped form kept instead. Keyed by the token source's object, so an entry goes with its token.
 */
const tokenJson = new WeakMap<object, string | true>();
const JSON_SAFE = /^[\w.~+/=-]*$/;

/** The RFC 6749 §5.1 body, exactly JSON.stringify(tokenResponse(v)). */
export function tokenResponseBody(v: Vended): string {
  let known = tokenJson.get(v.token);
  if (known === undefined) {
    known = JSON_SAFE.test(v.token.accessToken) ? true : JSON.stringify(v.token.accessToken);
    tokenJson.set(v.token, known);
  }
  // Concatenating the token text (rather than keeping an escaped copy) costs no memory per cached token.
  const accessToken = known === true ? `"${v.token.accessToken}"` : known;
  return `{"token_type":"Bearer","access_token":${accessToken},"expires_in":${v.expiresIn},"scope":${JSON.stringify(v.scope)}}`;
}

/**
 * Token request bodies parsed before: a PBX sends the same few bytes with every request, and parsing them
 * was about a sixth of the warm path's own JavaScript (bench/). Only bodies without a credential in them (a
 * client_secret_post secret or an assertion stays in memory no longer than its request); at most 256,
 * emptied when full, so that a stream of made-up bodies costs a parse each and no memory.
 */
const parsedForms = new Map<string, ReadonlyMap<string, string>>();
const MAX_PARSED_FORMS = 256;

/** How many bodies `tokenForm` keeps now (for tests: a body with a credential is never kept). */
export function tokenBodiesInMemory(): number {
  return parsedForms.size;
}

function tokenForm(text: string, contentType: string | null): ReadonlyMap<string, string> {
  const known = parsedForms.get(text);
  if (known !== undefined && isFormContentType(contentType)) return known;
  const form = parseForm(text, contentType);
  if (!form.has('client_secret') && !form.has('client_assertion') && text.length <= 1024) {
    if (parsedForms.size >= MAX_PARSED_FORMS) parsedForms.clear();
    parsedForms.set(text, form);
  }
  return form;
}

export async function handleTokenRequest(
  deps: VendDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  try {
    const form = tokenForm(await request.text(), request.headers.get('content-type'));
    const req: TokenRequest = {
      authorization: request.headers.get('authorization'),
      form,
      ...(request.params.tenant !== undefined ? { pathTenant: request.params.tenant } : {}),
      sourceAddress: sourceAddress(request),
    };
    // The warm path answers without a promise; anything else (and every refusal) goes the full way.
    const token = vendFromMemory(deps, req) ?? (await issueToken(deps, req));
    // The warm path's only telemetry: one counter add with a prebuilt attribute object.
    deps.metrics?.tokenVended(token.scope);
    return { status: 200, headers: TOKEN_HEADERS, body: tokenResponseBody(token) };
  } catch (err) {
    return errorReply(toOAuthError(err, log), deps);
  }
}

function toOAuthError(err: unknown, log: Logger): OAuthError {
  if (err instanceof OAuthError) return err;
  const outage = outageOf(err);
  if (outage) {
    // An operator's problem, named in the log (BrokerKeyMissing's message holds no secret); the appliance
    // may retry.
    if (outage.operatorAction) log.error(`token endpoint: ${(err as Error).message}`);
    return new TemporarilyUnavailable(
      `The broker cannot reach ${outage.service} right now; retry after the given time.`,
      outage.retryAfterSeconds,
    );
  }
  // Only the error's class: its message could carry request data.
  log.error(`token endpoint: unexpected ${err instanceof Error ? err.name : 'error'}`);
  return new OAuthError('temporarily_unavailable', 500, 'The broker could not complete the request.');
}

function errorReply(err: OAuthError, deps: Pick<VendDeps, 'metrics'>): HttpReply {
  const error = err.status === 500 ? 'server_error' : err.code;
  deps.metrics?.tokenError(error);
  return {
    status: err.status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...NO_STORE, ...err.headers },
    body: JSON.stringify({ error, error_description: err.description }),
  };
}

/** RFC 8414 §2, built from the configuration (STYLE.md: never written by hand). */
export function authorizationServerMetadata(deps: { publicUrl: string; profiles: Profiles }): HttpReply {
  const metadata = {
    issuer: deps.publicUrl,
    token_endpoint: `${deps.publicUrl}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
    grant_types_supported: ['client_credentials'],
    response_types_supported: [],
    scopes_supported: [...new Set([...deps.profiles.resources.values()].map((r) => r.scope))],
    service_documentation: `${deps.publicUrl}/api/openapi.json`,
  };
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=3600' },
    body: JSON.stringify(metadata),
  };
}

/**
 * The caller's address: the last X-Forwarded-For entry, which the platform's front end appends (a client can
 * forge the earlier ones, not that one). The local host adds it from the socket the same way. Azure's front
 * ends may write it as `ip:port` (`203.0.113.7:50123`, `[2001:db8::1]:50123`), and the port differs per
 * connection, so it is stripped: else each new connection would be a new throttle key. An
 * IPv4-mapped IPv6 address (`::ffff:203.0.113.7`, a dual-stack socket) is its IPv4 address.
 */
export function sourceAddress(request: HttpRequestLike): string | undefined {
  const forwarded = request.headers.get('x-forwarded-for');
  const last = forwarded?.split(',').pop()?.trim();
  return last ? withoutPort(last).slice(0, 64) : undefined;
}

/**
 * `ip:port` → `ip` for IPv4 and bracketed IPv6 (RFC 3986 §3.2.2 brackets an IPv6 literal so that a port can
 * follow); a bare IPv6 address (two or more colons, no brackets) has no port and is kept whole. String
 * scans rather than regular expressions: this runs on every token request.
 */
function withoutPort(entry: string): string {
  const colon = entry.indexOf(':');
  if (colon < 0) return entry; // IPv4 without a port (the usual case)
  if (entry.charCodeAt(0) === 0x5b /* [ */) {
    const end = entry.indexOf(']');
    const rest = end > 0 ? entry.slice(end + 1) : '';
    if (end > 0 && (rest === '' || /^:\d{1,5}$/.test(rest)))
      return unmapped(entry.slice(1, end).toLowerCase());
    return entry.toLowerCase();
  }
  if (entry.indexOf(':', colon + 1) < 0) return entry.slice(0, colon); // IPv4:port
  return unmapped(entry.toLowerCase());
}

/** An IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2, `::ffff:a.b.c.d`) is its IPv4 address. */
function unmapped(ipv6: string): string {
  return ipv6.startsWith('::ffff:') && ipv6.includes('.') ? ipv6.slice(7) : ipv6;
}
