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
 * - our own `networkClient` (MSAL 7 uses Node's fetch; FACTS.md §9) so that 429/5xx keep their
 *   `Retry-After` (MSAL's default client drops it and then refuses locally for up to 60 s without saying
 *   why: ThrottlingUtils.mjs), requests time out, and a failed metadata request keeps its cause (MSAL turns
 *   it into a bare `openid_config_error`).
 * - every HTTP request to Entra is measured there (`BrokerMetrics.entraRequest`: duration, outcome, the
 *   AADSTS number of a refusal), so that the figures are those of Entra, not of MSAL's own cache.
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
  /** Where each HTTP request to Entra is reported (duration, outcome, AADSTS code); none by default. */
  readonly metrics?: Pick<BrokerMetrics, 'entraRequest'>;
}

/** Retry-After when Entra gives none: MSAL's own throttling default for 429 (ThrottlingUtils.mjs). */
const DEFAULT_THROTTLE_SECONDS = 60;
/** Retry-After for network failures and 5xx without the header: a short, fixed pause. */
const DEFAULT_UNAVAILABLE_SECONDS = 5;
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

/** fetch with a timeout; 429/5xx and transport failures become EntraUnavailable (FACTS.md §9: native fetch). */
export class EntraNetwork implements INetworkModule {
  /** Why the last metadata (GET) request failed, since MSAL reports only `openid_config_error`. */
  lastGetFailure: EntraUnavailable | EntraRefused | undefined;

  constructor(
    private readonly timeoutMs: number,
    private readonly metrics?: Pick<BrokerMetrics, 'entraRequest'>,
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
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: options?.headers,
        body: method === 'POST' ? (options?.body ?? '') : undefined,
        signal: AbortSignal.timeout(timeout ?? this.timeoutMs),
      });
    } catch (err) {
      return fail(
        new EntraUnavailable(
          DEFAULT_UNAVAILABLE_SECONDS,
          `Entra ID unreachable: ${err instanceof Error ? err.name : 'error'}`,
          {
            cause: err,
          },
        ),
        'unavailable',
      );
    }
    const headers: Record<string, string> = {};
    response.headers.forEach((v, k) => (headers[k] = v));
    if (response.status === 429 || response.status >= 500) {
      await response.body?.cancel();
      const fallback = response.status === 429 ? DEFAULT_THROTTLE_SECONDS : DEFAULT_UNAVAILABLE_SECONDS;
      return fail(
        new EntraUnavailable(
          parseRetryAfter(response.headers.get('retry-after'), fallback),
          `Entra ID answered HTTP ${response.status}`,
        ),
        response.status === 429 ? 'throttled' : 'unavailable',
      );
    }
    let body: unknown;
    try {
      body = await response.json();
    } catch {
      return fail(
        new EntraRefused(
          undefined,
          'invalid_response',
          `Entra ID answered HTTP ${response.status} without JSON`,
        ),
        'refused',
      );
    }
    if (typeof body !== 'object' || body === null)
      return fail(
        new EntraRefused(
          undefined,
          'invalid_response',
          `Entra ID answered HTTP ${response.status} without a JSON object`,
        ),
        'refused',
      );
    // A 4xx with an OAuth error body goes back to MSAL, which raises it as a ServerError (fromMsalError).
    const refusal = response.ok
      ? undefined
      : refusalFromBody(response.status, body as Record<string, unknown>);
    measure(refusal ? 'refused' : 'ok', refusal?.aadsts);
    if (method === 'GET') this.lastGetFailure = refusal;
    return { headers, body: body as T, status: response.status };
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

  return function clientFor(tenantId: string): TenantClient {
    const key = tenantId.toLowerCase();
    const cached = clients.get(key);
    if (cached) {
      clients.delete(key); // re-insert: most recently used last
      clients.set(key, cached);
      return cached;
    }
    const authority = `${host}/${key}`;
    const network = new EntraNetwork(timeoutMs, config.metrics);
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

  return {
    async acquireAppToken(tenantId: string, scope: string, options?: AcquireOptions): Promise<AppToken> {
      if (!TENANT_PATTERN.test(tenantId))
        throw new EntraRefused(undefined, 'invalid_tenant', 'Tenant must be a GUID or a domain name');
      const client = clientFor(tenantId);
      let result;
      try {
        result = await client.app.acquireTokenByClientCredential({
          scopes: [scope],
          skipCache: options?.fresh === true,
        });
      } catch (err) {
        throw fromMsalError(err, client.network);
      }
      if (!result?.accessToken)
        throw new EntraRefused(undefined, 'no_token', 'Entra ID returned no access token');
      return toAppToken(tenantId, result.accessToken, result.expiresOn);
    },
  };
}
