/**
 * `EntraTokens` on @azure/msal-node 7: one ConfidentialClientApplication per tenant authority
 * (`${authorityHost}/${tenantId}`; client credentials need a tenant-specific authority, FACTS.md §9), kept in
 * a bounded least-recently-used map. The only file that imports MSAL; no MSAL type or error leaves it.
 *
 * The same configuration works against https://login.microsoftonline.com and a stand-in such as the
 * sandbox's Entra simulator:
 * - `knownAuthorities: [authority]`. Without it MSAL validates the authority with instance discovery, and it
 *   sends that request to the hard-coded `https://login.microsoftonline.com/common/discovery/instance`
 *   whatever the configured host (`npm:@azure/msal-common@16.17.0:dist/utils/Constants.mjs`
 *   AAD_INSTANCE_DISCOVERY_ENDPT; `dist/authority/Authority.mjs`), so a non-Microsoft host would be
 *   "untrusted_authority" (or depend on the internet). For login.microsoftonline.com MSAL then uses its
 *   built-in endpoint table and makes no metadata request; for any other host it reads
 *   `{authority}/v2.0/.well-known/openid-configuration` from that host and requires the `issuer` to be on
 *   the same origin (Authority.mjs validateIssuer, rule 1).
 * - our own `networkClient` (MSAL 7 uses Node's fetch; FACTS.md §9; ours uses `node:https` with keep-alive
 *   connections shared by all tenants, see `EntraAgents`) so that 429/5xx keep their
 *   `Retry-After` (MSAL's default client drops it and then refuses locally for up to 60 s without saying
 *   why: ThrottlingUtils.mjs), requests time out, and a failed metadata request keeps its cause (MSAL turns
 *   it into a bare `openid_config_error`).
 * - every HTTP request to Entra is measured there (`BrokerMetrics.entraRequest`: duration, outcome, the
 *   AADSTS number of a refusal), so that the figures are those of Entra, not of MSAL's own cache.
 * - one `acquireAppToken` settles within `deadlineMs` (4 s), all its HTTP requests together (authority
 *   metadata, then the token): each request is given only the time left (`AcquireDeadline`). The token
 *   endpoint answers a cold request 503 + Retry-After strictly within 5 s, and the token
 *   cache's own 5 s wait left nothing for the rest of the request (measured: 5.009 s against an Entra that
 *   accepts connections and never answers).
 * @module
 */
import {
  AuthError,
  ConfidentialClientApplication,
  ServerError,
  type Configuration,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { decodeJwt } from 'jose';
import {
  EntraRefused,
  EntraUnavailable,
  type AcquireOptions,
  type AppToken,
  type EntraTokens,
} from './port.js';
import type { BrokerMetrics, EntraRequestOutcome } from '../telemetry/port.js';

export type EntraCredential =
  | { readonly kind: 'secret'; readonly secret: string }
  | {
      readonly kind: 'certificate';
      /** PKCS#8 PEM ("BEGIN PRIVATE KEY"), RSA: MSAL signs the assertion with PS256 (E-CERT). */
      readonly privateKeyPem: string;
      /** Hex SHA-256 thumbprint of the certificate DER; MSAL sends it as `x5t#S256`. */
      readonly thumbprintSha256: string;
      /** The certificate PEM, sent as `x5c` (subject-name/issuer auth). */
      readonly x5c?: string;
    };

export interface MsalEntraConfig {
  /** e.g. https://login.microsoftonline.com, a national cloud, or the sandbox simulator. */
  readonly authorityHost: string;
  readonly clientId: string;
  readonly credential: EntraCredential;
  /**
   * Tenants whose MSAL client (and token cache) is kept; least recently used ones are dropped. Default 20,000:
   * a client costs about 1.5 KB once used (bench/: V8 heap after a full GC), while dropping one means the
   * next token for that tenant also re-reads its authority metadata from Entra, and that churn is what grew
   * the process's memory (bench, 1,000 tenants and a bound of 500: 20 KB RSS per cached token; without
   * churn 4.3 KB). 100,000 tenants then keep at most about 30 MB of clients.
   */
  readonly maxTenants?: number;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number;
  /**
   * Time one `acquireAppToken` may take, all its requests to Entra together. Default 4 s
   * (`APP_TOKEN_DEADLINE_MS`).
   */
  readonly deadlineMs?: number;
  /** Where each HTTP request to Entra is reported (duration, outcome, AADSTS code); none by default. */
  readonly metrics?: Pick<BrokerMetrics, 'entraRequest'>;
}

/** Retry-After when Entra gives none: MSAL's own throttling default for 429 (ThrottlingUtils.mjs). */
const DEFAULT_THROTTLE_SECONDS = 60;
/** Retry-After for network failures and 5xx without the header: a short, fixed pause. */
const DEFAULT_UNAVAILABLE_SECONDS = 5;
/**
 * SPEC.md "Guarantees": a cold token request gets 503 + Retry-After strictly within 5 s. This leaves 1 s of that for
 * what the endpoint does around the Entra request (client authentication, the tenant, the answer) on a busy
 * instance. Entra answers a token request in well under a second when it is well.
 */
export const APP_TOKEN_DEADLINE_MS = 4_000;
/**
 * The deadline (a `performance.now()` time) of the `acquireAppToken` under way, seen by `EntraNetwork` in the
 * requests MSAL sends on its behalf: MSAL's network interface carries no per-call options.
 */
const acquireDeadline = new AsyncLocalStorage<number>();
const METADATA_FAILURES = new Set(['endpoints_resolution_error', 'openid_config_error']);
/** A tenant as a path segment: GUID or domain name (also `organizations` / `common`). */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

/** Carries a port error through MSAL, which rethrows AuthErrors from the network client unchanged. */
class PortErrorCarrier extends AuthError {
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

function refusalFromBody(status: number, body: Record<string, unknown>): EntraRefused {
  const codes = Array.isArray(body.error_codes) ? body.error_codes : [];
  const line = firstLine(body.error_description);
  const aadsts = typeof codes[0] === 'number' ? String(codes[0]) : /^AADSTS(\d+)/.exec(line)?.[1];
  const error = typeof body.error === 'string' ? body.error : `http_${status}`;
  return new EntraRefused(aadsts, error, line || `Entra ID refused the request (HTTP ${status})`);
}

/**
 * Keep-alive connections to Entra, shared by every tenant's client. `node:http(s)` rather than `fetch`:
 * measured on Node 22 (10,000 token requests to a loopback HTTPS server, 16 at a time, RSS after a full
 * GC), `fetch` left 85 MB of native memory behind in the first 10,000 requests and kept growing, while
 * `https.request` with a keep-alive agent grew by what the answers themselves held (docs/decisions.md,
 * "Memory bounds"). At 10,000 tenants that slack, not the cached tokens, was most of the broker's growth.
 */
export interface EntraAgents {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
}

/** At most this many connections to Entra per origin; more requests queue (they are few: one per token). */
const MAX_SOCKETS = 64;
/** An Entra answer is a few KB; anything beyond this is not one. */
const MAX_RESPONSE_BYTES = 1 << 20;

export function createEntraAgents(): EntraAgents {
  const options = {
    keepAlive: true,
    maxSockets: MAX_SOCKETS,
    maxFreeSockets: 16,
    scheduling: 'lifo',
  } as const;
  return { http: new HttpAgent(options), https: new HttpsAgent(options) };
}

interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  /** undefined when the status (429/5xx) made the body irrelevant: it was discarded. */
  readonly text: string | undefined;
}

/** Fails a request: the name is what the error message shows (never the URL, which may carry a tenant). */
class TransportError extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = code;
  }
}

/**
 * One HTTP exchange with a deadline for the whole of it (connect, send, answer). A request sent on a reused
 * keep-alive connection that the server had just closed fails with ECONNRESET before any answer; it is
 * sent once more on a new connection (Node marks it `reusedSocket`; a token request has no side effect that
 * a second one would repeat harmfully: Entra just issues a token).
 */
function exchange(
  agents: EntraAgents,
  method: 'GET' | 'POST',
  url: string,
  headers: Record<string, string> | undefined,
  body: string | undefined,
  timeoutMs: number,
  retryOnStale = true,
): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    if (!secure && target.protocol !== 'http:') {
      reject(new TransportError('UnsupportedProtocol'));
      return;
    }
    const sentAt = performance.now();
    const payload = body === undefined ? undefined : Buffer.from(body, 'utf8');
    const send = secure ? httpsRequest : httpRequest;
    let settled = false;
    const finish = (err: Error | undefined, response?: RawResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(response!);
    };
    const req = send(target, {
      method,
      agent: secure ? agents.https : agents.http,
      headers: {
        ...headers,
        ...(payload ? { 'content-length': String(payload.length) } : {}),
      },
    });
    const timer = setTimeout(() => {
      finish(new TransportError('TimeoutError'));
      req.destroy();
    }, timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      if (retryOnStale && req.reusedSocket && err.code === 'ECONNRESET') {
        settled = true;
        clearTimeout(timer);
        // The second try gets what is left of the first one's time, not a deadline of its own.
        const left = Math.max(0, timeoutMs - (performance.now() - sentAt));
        exchange(agents, method, url, headers, body, left, false).then(resolve, reject);
        return;
      }
      finish(err instanceof TransportError ? err : new TransportError(err.code ?? err.name));
    });
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      const responseHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(res.headers))
        if (value !== undefined) responseHeaders[name] = Array.isArray(value) ? value.join(', ') : value;
      if (status === 429 || status >= 500) {
        // The answer does not matter; reading it to the end keeps the connection reusable.
        res.resume();
        res.on('end', () => finish(undefined, { status, headers: responseHeaders, text: undefined }));
        res.on('error', () => finish(undefined, { status, headers: responseHeaders, text: undefined }));
        return;
      }
      const chunks: Buffer[] = [];
      let length = 0;
      res.on('data', (chunk: Buffer) => {
        length += chunk.length;
        if (length > MAX_RESPONSE_BYTES) {
          finish(new TransportError('ResponseTooLarge'));
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () =>
        finish(undefined, {
          status,
          headers: responseHeaders,
          text: Buffer.concat(chunks, length).toString('utf8'),
        }),
      );
      res.on('error', (err: NodeJS.ErrnoException) =>
        finish(err instanceof TransportError ? err : new TransportError(err.code ?? err.name)),
      );
      // The connection closed before the answer was complete (no 'end'): not an answer.
      res.on('close', () => {
        if (!res.complete) finish(new TransportError('ECONNRESET'));
      });
    });
    req.end(payload);
  });
}

/** HTTP to Entra with a deadline; 429/5xx and transport failures become EntraUnavailable. */
export class EntraNetwork implements INetworkModule {
  /** Why the last metadata (GET) request failed, since MSAL reports only `openid_config_error`. */
  lastGetFailure: EntraUnavailable | EntraRefused | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly metrics?: Pick<BrokerMetrics, 'entraRequest'>,
    private readonly agents: EntraAgents = createEntraAgents(),
  ) {}

  sendGetRequestAsync<T>(
    url: string,
    options?: NetworkRequestOptions,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    return this.send<T>('GET', url, options, timeout);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.send<T>('POST', url, options);
  }

  private async send<T>(
    method: 'GET' | 'POST',
    url: string,
    options: NetworkRequestOptions | undefined,
    timeout?: number,
  ): Promise<NetworkResponse<T>> {
    const started = performance.now();
    const request = method === 'GET' ? 'metadata' : 'token';
    const measure = (outcome: EntraRequestOutcome, aadsts?: string) =>
      this.metrics?.entraRequest({ request, outcome, durationMs: performance.now() - started, aadsts });
    const fail = (e: EntraUnavailable | EntraRefused, outcome: EntraRequestOutcome): never => {
      measure(outcome, e instanceof EntraRefused ? e.aadsts : undefined);
      if (method === 'GET') this.lastGetFailure = e;
      throw new PortErrorCarrier(e);
    };
    // Within an acquireAppToken, a request gets no more than the time its deadline leaves.
    const deadline = acquireDeadline.getStore();
    const limit = Math.min(
      timeout ?? this.timeoutMs,
      deadline === undefined ? Infinity : Math.max(0, deadline - started),
    );
    let response: RawResponse;
    try {
      response = await exchange(
        this.agents,
        method,
        url,
        options?.headers,
        method === 'POST' ? (options?.body ?? '') : undefined,
        limit,
      );
    } catch (err) {
      if (err instanceof TransportError && err.code === 'ResponseTooLarge')
        return fail(
          new EntraRefused(undefined, 'invalid_response', 'Entra ID answered with more than 1 MiB'),
          'refused',
        );
      return fail(
        new EntraUnavailable(
          DEFAULT_UNAVAILABLE_SECONDS,
          `Entra ID unreachable: ${err instanceof Error ? err.name : 'error'}`,
          { cause: err },
        ),
        'unavailable',
      );
    }
    const { status, headers } = response;
    if (response.text === undefined) {
      const fallback = status === 429 ? DEFAULT_THROTTLE_SECONDS : DEFAULT_UNAVAILABLE_SECONDS;
      return fail(
        new EntraUnavailable(
          parseRetryAfter(headers['retry-after'], fallback),
          `Entra ID answered HTTP ${status}`,
        ),
        status === 429 ? 'throttled' : 'unavailable',
      );
    }
    let body: unknown;
    try {
      body = JSON.parse(response.text);
    } catch {
      return fail(
        new EntraRefused(undefined, 'invalid_response', `Entra ID answered HTTP ${status} without JSON`),
        'refused',
      );
    }
    if (typeof body !== 'object' || body === null)
      return fail(
        new EntraRefused(
          undefined,
          'invalid_response',
          `Entra ID answered HTTP ${status} without a JSON object`,
        ),
        'refused',
      );
    // A 4xx with an OAuth error body goes back to MSAL, which raises it as a ServerError (fromMsalError).
    const ok = status >= 200 && status < 300;
    const refusal = ok ? undefined : refusalFromBody(status, body as Record<string, unknown>);
    measure(refusal ? 'refused' : 'ok', refusal?.aadsts);
    if (method === 'GET') this.lastGetFailure = refusal;
    return { headers, body: body as T, status };
  }
}

export interface TenantClient {
  readonly app: ConfidentialClientApplication;
  readonly network: EntraNetwork;
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

function toAppToken(tenantId: string, accessToken: string, expiresOn: Date | null): AppToken {
  const claims = decodeJwt(accessToken);
  const oid = typeof claims.oid === 'string' ? claims.oid : undefined;
  const tid = typeof claims.tid === 'string' ? claims.tid : undefined;
  // FACTS.md §3: a token without `oid` is a sign of directory propagation delay (ARO-RP): not usable yet.
  if (!oid || !tid)
    throw new EntraRefused(undefined, 'incomplete_token', 'Entra ID issued a token without oid/tid');
  // A tenant named by GUID must be the one that issued the token.
  if (/^[0-9a-f-]{36}$/i.test(tenantId) && tid.toLowerCase() !== tenantId.toLowerCase())
    throw new EntraRefused(
      undefined,
      'tenant_mismatch',
      `Entra ID issued a token for tenant ${tid}, not ${tenantId}`,
    );
  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  const exp = typeof claims.exp === 'number' ? new Date(claims.exp * 1000) : undefined;
  return {
    accessToken,
    expiresOn: expiresOn ?? exp ?? new Date(Date.now() + 3_000_000),
    roles,
    servicePrincipalId: oid,
    tenantId: tid,
  };
}

/**
 * One ConfidentialClientApplication per tenant authority, least recently used dropped beyond `maxTenants`.
 * Shared by the app-token adapter and the admin sign-in adapter (msal-sign-in.ts): same credential, same
 * network client, same authority rules.
 */
export function createTenantClients(config: MsalEntraConfig): (tenantId: string) => TenantClient {
  const host = config.authorityHost.replace(/\/+$/, '');
  const maxTenants = config.maxTenants ?? 20_000;
  const timeoutMs = config.timeoutMs ?? 10_000;
  const clients = new Map<string, TenantClient>();
  const agents = createEntraAgents();

  return function clientFor(tenantId: string): TenantClient {
    const key = tenantId.toLowerCase();
    const cached = clients.get(key);
    if (cached) {
      clients.delete(key); // re-insert: most recently used last
      clients.set(key, cached);
      return cached;
    }
    const authority = `${host}/${key}`;
    const network = new EntraNetwork(timeoutMs, config.metrics, agents);
    const credential = config.credential;
    const msalConfig: Configuration = {
      auth: {
        clientId: config.clientId,
        authority,
        knownAuthorities: [authority],
        ...(credential.kind === 'secret'
          ? { clientSecret: credential.secret }
          : {
              clientCertificate: {
                thumbprintSha256: credential.thumbprintSha256,
                privateKey: credential.privateKeyPem,
                ...(credential.x5c ? { x5c: credential.x5c } : {}),
              },
            }),
      },
      system: { networkClient: network, loggerOptions: { piiLoggingEnabled: false } },
    };
    const client = { app: new ConfidentialClientApplication(msalConfig), network };
    clients.set(key, client);
    while (clients.size > maxTenants) {
      const oldest = clients.keys().next().value;
      if (oldest === undefined) break;
      clients.delete(oldest);
    }
    return client;
  };
}

export function createMsalEntraTokens(config: MsalEntraConfig): EntraTokens {
  const clientFor = createTenantClients(config);
  const deadlineMs = config.deadlineMs ?? APP_TOKEN_DEADLINE_MS;

  return {
    async acquireAppToken(tenantId: string, scope: string, options?: AcquireOptions): Promise<AppToken> {
      if (!TENANT_PATTERN.test(tenantId))
        throw new EntraRefused(undefined, 'invalid_tenant', 'Tenant must be a GUID or a domain name');
      const client = clientFor(tenantId);
      let result;
      try {
        result = await acquireDeadline.run(performance.now() + deadlineMs, () =>
          client.app.acquireTokenByClientCredential({ scopes: [scope], skipCache: options?.fresh === true }),
        );
      } catch (err) {
        throw fromMsalError(err, client.network);
      }
      if (!result?.accessToken)
        throw new EntraRefused(undefined, 'no_token', 'Entra ID returned no access token');
      return toAppToken(tenantId, result.accessToken, result.expiresOn);
    },
  };
}
