/**
 * `POST /oauth2/token` and `POST /{tenant}/oauth2/v2.0/token` (SPEC.md "Appliances"), and the RFC 8414
 * metadata. The body is read strictly (RFC 6749 §3.2: form-encoded, each parameter at most once; §3.1: an
 * empty parameter counts as absent); answers follow §5.1 and §5.2 with `Cache-Control: no-store`. Nothing of
 * the request's credentials reaches a log, an error or a metric: metrics carry only the resource scope of a
 * vended token and the error code of a refusal (src/adapters/telemetry/port.ts).
 * @module
 */
import type { Profiles } from '../profiles/profiles.js';
import { InvalidRequest, OAuthError, TemporarilyUnavailable } from '../vending/errors.js';
import { isFormContentType, parseForm } from './form-body.js';
import {
  issueToken,
  vendFromMemory,
  type TokenRequest,
  type VendDeps,
  type Vended,
} from '../vending/issue.js';
import { tokenForm, tokenResponseBody } from '../vending/warm-path.js';
import { issueGrantToken, vendGrantFromMemory, type DelegatedVendDeps } from '../vending/delegated.js';
import {
  DEVICE_CODE_GRANT,
  DEVICE_CODE_GRANT_TYPES,
  issueDeviceCodeToken,
  startDeviceAuthorization,
  type DeviceFlowDeps,
} from '../vending/device-code.js';
import type { Logger } from './logger.js';
import {
  ENROLLMENT_CODE_PREFIX,
  pollEnrollment,
  startEnrollment,
  type EnrollmentDeps,
} from '../appliances/enrollment.js';
import { outageOf } from './outage.js';
import type { HttpReply, HttpRequestLike } from './types.js';

const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };
const TOKEN_HEADERS = Object.freeze({ 'content-type': 'application/json; charset=utf-8', ...NO_STORE });

/**
 * `endpoint: 'v1'` for `POST /{tenant}/oauth2/token`: the resource asked for by `resource=`, the answer in
 * the shape of Entra's v1 endpoint (`v1TokenResponseBody`).
 */
export async function handleTokenRequest(
  deps: VendDeps & Partial<DeviceFlowDeps> & Partial<EnrollmentDeps>,
  request: HttpRequestLike,
  log: Logger,
  endpoint?: 'v1',
): Promise<HttpReply> {
  try {
    const req = await tokenRequest(request, endpoint);
    const grantType = req.form.get('grant_type');
    // A mailbox grant's refresh (src/vending/delegated.ts) or a device's poll (src/vending/device-code.ts); the
    // v1 path serves client credentials only.
    if (endpoint !== 'v1' && deps.mailboxGrants) {
      if (grantType === 'refresh_token') {
        const d = deps as VendDeps & DelegatedVendDeps;
        const warm = vendGrantFromMemory(d, req);
        return warm !== undefined
          ? { status: 200, headers: TOKEN_HEADERS, body: warm }
          : tokenReply(await issueGrantToken(d, req));
      }
      if (grantType !== undefined && DEVICE_CODE_GRANT_TYPES.has(grantType)) {
        // A self-enrolling device's poll (src/appliances/enrollment.ts): it has no credential yet.
        if (deps.enrollments && req.form.get('device_code')?.startsWith(ENROLLMENT_CODE_PREFIX)) {
          if (req.authorization !== null)
            throw new InvalidRequest('An enrollment poll carries no client credential.');
          return tokenReply(await pollEnrollment(deps as VendDeps & EnrollmentDeps, req.form));
        }
        return tokenReply(await issueDeviceCodeToken(deps as VendDeps & DeviceFlowDeps, req));
      }
    }
    // The warm path answers without a promise; anything else (and every refusal) goes the full way.
    const token = vendFromMemory(deps, req) ?? (await issueToken(deps, req));
    // The warm path's only telemetry: one counter add with a prebuilt attribute object.
    deps.metrics?.tokenVended(token.scope);
    const body = endpoint === 'v1' ? v1TokenResponseBody(token, deps.now()) : tokenResponseBody(token);
    return { status: 200, headers: TOKEN_HEADERS, body };
  } catch (err) {
    return errorReply(toOAuthError(err, log), deps);
  }
}

/** `POST /appliance/enroll` (src/appliances/enrollment.ts): RFC 8628 §3.2's answer for a device without a credential. */
export async function handleEnrollment(
  deps: Pick<VendDeps, 'metrics'> & EnrollmentDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  try {
    const req = await tokenRequest(request);
    if (req.authorization !== null) throw new InvalidRequest('An enrollment carries no client credential.');
    return tokenReply(await startEnrollment(deps, req.form, req.sourceAddress));
  } catch (err) {
    return errorReply(toOAuthError(err, log), deps);
  }
}

/** `POST /{tenant}/oauth2/v2.0/devicecode` (src/vending/device-code.ts): RFC 8628 §3.2, as Entra answers. */
export async function handleDeviceAuthorization(
  deps: VendDeps & DeviceFlowDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  try {
    return tokenReply(await startDeviceAuthorization(deps, await tokenRequest(request)));
  } catch (err) {
    return errorReply(toOAuthError(err, log), deps);
  }
}

async function tokenRequest(request: HttpRequestLike, endpoint?: 'v1'): Promise<TokenRequest> {
  const contentType = request.headers.get('content-type');
  const form = tokenForm(await request.text(), isFormContentType(contentType), (text) =>
    parseForm(text, contentType),
  );
  return {
    authorization: request.headers.get('authorization'),
    form,
    ...(request.params.tenant !== undefined ? { pathTenant: request.params.tenant } : {}),
    sourceAddress: sourceAddress(request),
    ...(endpoint ? { endpoint } : {}),
  };
}

const tokenReply = (body: object): HttpReply => ({
  status: 200,
  headers: TOKEN_HEADERS,
  body: JSON.stringify(body),
});

/**
 * The answer of Entra's v1 token endpoint: numbers as JSON strings, the resource as asked instead of a scope
 * (https://learn.microsoft.com/en-us/azure/active-directory/azuread-dev/v1-oauth2-client-creds-grant-flow:
 * `"expires_in":"3599","expires_on":"1388452167","resource":"https://service.contoso.com/"`). MSAL reads
 * string numbers too (msal-common ResponseHandler: "Server may return timestamps as strings").
 */
export function v1TokenResponseBody(v: Vended, now: Date): string {
  const expiresIn = String(v.expiresIn);
  return JSON.stringify({
    token_type: 'Bearer',
    expires_in: expiresIn,
    ext_expires_in: expiresIn,
    expires_on: String(Math.floor(now.getTime() / 1000) + v.expiresIn),
    resource: v.scope.slice(0, -'/.default'.length),
    access_token: v.token.accessToken,
  });
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
    // `none`: public clients, for the device-code flow only (RFC 8414 §2, RFC 7591 §2).
    token_endpoint_auth_methods_supported: [
      'client_secret_basic',
      'client_secret_post',
      'private_key_jwt',
      'none',
    ],
    token_endpoint_auth_signing_alg_values_supported: ['RS256', 'PS256', 'ES256'],
    grant_types_supported: ['client_credentials', 'refresh_token', DEVICE_CODE_GRANT],
    device_authorization_endpoint: `${deps.publicUrl}/organizations/oauth2/v2.0/devicecode`,
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
