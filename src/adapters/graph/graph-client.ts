/**
 * The {@link Directory} on `@microsoft/microsoft-graph-client` (the only file that imports it). What the SDK does,
 * read in `npm:@microsoft/microsoft-graph-client@3.0.7` (`src/`):
 *
 * - `AuthenticationHandler` attaches the bearer token only to `https://` URLs whose host is a Graph cloud host or
 *   in `customHosts` (`GraphRequestUtil.ts` `isValidEndpoint`): any other host — a simulator, a proxy — silently
 *   gets no token. So the endpoint's host goes into `customHosts`, and plain `http://` is refused here.
 * - The default chain's `RetryHandler` retries 429/503/504 up to 3 times, sleeping Retry-After (capped at 180 s)
 *   or 3 s with backoff (`RetryHandler.ts`, `RetryHandlerOptions.ts`): a 429 with `Retry-After: 120` would hold
 *   a caller for minutes. We build the chain ourselves with a bounded RetryHandler (see {@link GraphRetryPolicy}).
 * - A non-2xx answer becomes a `GraphError` with `statusCode`, `code` (Graph's `error.code`) and the response
 *   `headers`; a network failure or abort becomes a `GraphError` with `statusCode` -1 and `code` = the error's
 *   name (`GraphErrorHandler.ts`). An error thrown by the auth provider is wrapped the same way, losing its class,
 *   so the token is acquired before the SDK is called and its errors pass through untouched.
 * @module
 */
import {
  AuthenticationHandler,
  AuthenticationHandlerOptions,
  Client,
  GraphError,
  HTTPMessageHandler,
  RetryHandler,
  RetryHandlerOptions,
  TelemetryHandler,
  type AuthenticationProvider,
  type GraphRequest,
} from '@microsoft/microsoft-graph-client';
import {
  GraphRefused,
  GraphUnavailable,
  type Directory,
  type MailboxProbe,
  type Organization,
  type ServicePrincipal,
  type VerifiedDomain,
} from './port.js';

/**
 * The SDK's own retry of 429/503/504: at most `maxRetries` more attempts, and only when the wait Graph asks for
 * (Retry-After; 1 s plus up to 1 s of jitter when it sends none) is at most `maxWaitSeconds`. A longer wait is
 * not slept here: it surfaces at once as {@link GraphUnavailable} with that Retry-After, for the caller to schedule.
 */
export interface GraphRetryPolicy {
  readonly maxRetries: number;
  readonly maxWaitSeconds: number;
}

export interface GraphDirectoryOptions {
  /** `https://graph.microsoft.com`, a national cloud's Graph host (FACTS.md §12), or the simulator. */
  readonly graphEndpoint: string;
  /** An app-only token for Graph in `tenantId` (scope `https://graph.microsoft.com/.default`). */
  readonly accessToken: (tenantId: string) => Promise<string>;
  /** Deadline for one call, SDK retries included. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** Default: one retry, only for a wait of at most 1 s. */
  readonly retry?: GraphRetryPolicy;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_RETRY: GraphRetryPolicy = { maxRetries: 1, maxWaitSeconds: 1 };
/** Retry-After we report when Graph is unreachable or sends none. */
const DEFAULT_RETRY_AFTER_SECONDS = 5;
/** The SDK's sleep, in seconds, before a retry when Graph sends no Retry-After (plus < 1 s of jitter). */
const SDK_DELAY_WITHOUT_RETRY_AFTER = 1;

/**
 * Codes meaning "no such mailbox" (third-party only, see simulators/graph/mail-folders.ts): no user, no Exchange
 * Online mailbox, or (photo API wording) no mailbox for the SMTP address.
 */
const MAILBOX_NOT_FOUND_CODES = new Set([
  'ErrorInvalidUser',
  'MailboxNotEnabledForRESTAPI',
  'MailboxNotSupportedForRESTAPI',
  'ErrorNonExistentMailbox',
  'Request_ResourceNotFound',
  'ResourceNotFound',
]);

export function createGraphDirectory(options: GraphDirectoryOptions): Directory {
  const endpoint = new URL(options.graphEndpoint);
  if (endpoint.protocol !== 'https:')
    // The SDK would send such requests without the token (see the module comment).
    throw new TypeError(`graphEndpoint must be an https URL, got ${endpoint.protocol}`);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const policy = options.retry ?? DEFAULT_RETRY;

  // The chain's default provider is never used: every request names its tenant's token in its own options.
  const noTenant: AuthenticationProvider = {
    getAccessToken: () => Promise.reject(new Error('Graph request made without a tenant token')),
  };
  const retryOptions = new RetryHandlerOptions(
    SDK_DELAY_WITHOUT_RETRY_AFTER,
    policy.maxRetries,
    (_delay, _attempt, _request, _options, response) =>
      (retryAfterOf(response.headers) ?? SDK_DELAY_WITHOUT_RETRY_AFTER) <= policy.maxWaitSeconds,
  );
  const client = Client.initWithMiddleware({
    baseUrl: endpoint.origin,
    defaultVersion: 'v1.0',
    customHosts: new Set([endpoint.hostname]),
    middleware: [
      new AuthenticationHandler(noTenant),
      new RetryHandler(retryOptions),
      new TelemetryHandler(),
      new HTTPMessageHandler(),
    ],
  });

  async function get(tenantId: string, path: string, select: readonly string[]): Promise<unknown> {
    const token = await options.accessToken(tenantId);
    const provider: AuthenticationProvider = { getAccessToken: () => Promise.resolve(token) };
    const request: GraphRequest = client
      .api(path)
      .select([...select])
      .middlewareOptions([new AuthenticationHandlerOptions(provider)])
      .option('signal', AbortSignal.timeout(timeoutMs));
    try {
      const body: unknown = await request.get();
      return body;
    } catch (err) {
      throw fromGraphError(err);
    }
  }

  return {
    async organization(tenantId) {
      // FACTS.md §7: value[].displayName, verifiedDomains[] {isDefault, isInitial, name, …}.
      const body = await get(tenantId, '/organization', ['id', 'displayName', 'verifiedDomains']);
      const org = isRecord(body) && Array.isArray(body.value) ? body.value[0] : undefined;
      if (!isRecord(org) || typeof org.displayName !== 'string' || !Array.isArray(org.verifiedDomains))
        throw unexpected('organization');
      return toOrganization(org.displayName, org.verifiedDomains);
    },

    async servicePrincipalByAppId(tenantId, appId) {
      // serviceprincipal-get.md: GET /servicePrincipals(appId='{appId}'); an OData string literal doubles quotes.
      const key = encodeURIComponent(appId.replace(/'/g, "''"));
      let body: unknown;
      try {
        body = await get(tenantId, `/servicePrincipals(appId='${key}')`, [
          'id',
          'appId',
          'displayName',
          'accountEnabled',
        ]);
      } catch (err) {
        // The one refusal we absorb: 404, no service principal for that app in the tenant (Request_ResourceNotFound).
        if (err instanceof GraphRefused && err.status === 404) return undefined;
        throw err;
      }
      return toServicePrincipal(body);
    },

    async probeMailbox(tenantId, address) {
      if (!address) throw new RangeError('probeMailbox needs an address');
      try {
        await get(tenantId, `/users/${encodeURIComponent(address)}/mailFolders/inbox`, ['id']);
        return { result: 'reachable' };
      } catch (err) {
        if (!(err instanceof GraphRefused)) throw err;
        return toProbe(err);
      }
    },
  };
}

function toProbe(err: GraphRefused): MailboxProbe {
  if (err.status === 404 || MAILBOX_NOT_FOUND_CODES.has(err.code))
    return { result: 'not_found', code: err.code };
  // 403 ErrorAccessDenied: no Mail permission, or an application access policy / RBAC scope (FACTS.md §6.4).
  if (err.status === 403) return { result: 'access_denied', code: err.code };
  throw err;
}

function toOrganization(displayName: string, domains: unknown[]): Organization {
  const verifiedDomains: VerifiedDomain[] = [];
  for (const d of domains) {
    if (!isRecord(d) || typeof d.name !== 'string') throw unexpected('verifiedDomains');
    verifiedDomains.push({ name: d.name, isDefault: d.isDefault === true, isInitial: d.isInitial === true });
  }
  return { displayName, verifiedDomains };
}

function toServicePrincipal(body: unknown): ServicePrincipal {
  if (
    !isRecord(body) ||
    typeof body.id !== 'string' ||
    typeof body.appId !== 'string' ||
    typeof body.accountEnabled !== 'boolean'
  )
    throw unexpected('servicePrincipal');
  return {
    id: body.id,
    appId: body.appId,
    displayName: typeof body.displayName === 'string' ? body.displayName : '',
    accountEnabled: body.accountEnabled,
  };
}

/**
 * SDK failure → port error. No response (network, timeout) and 5xx/429 are {@link GraphUnavailable}, with Graph's
 * Retry-After where sent (G-ERR: 429 and 503 may carry it); anything else is {@link GraphRefused}. Anything that
 * is not a GraphError (a bug, a bad option) is rethrown as it is.
 */
function fromGraphError(err: unknown): unknown {
  if (!(err instanceof GraphError)) return err;
  const status = err.statusCode;
  if (status <= 0)
    return new GraphUnavailable(
      DEFAULT_RETRY_AFTER_SECONDS,
      `Microsoft Graph could not be reached (${err.code ?? 'network error'})`,
      { cause: err },
    );
  const code = err.code ?? 'unknown';
  if (status === 429 || status >= 500) {
    const retryAfter = retryAfterOf(err.headers);
    return new GraphUnavailable(
      retryAfter === undefined ? DEFAULT_RETRY_AFTER_SECONDS : Math.max(1, Math.ceil(retryAfter)),
      `Microsoft Graph answered ${status} ${code}`,
      { cause: err },
    );
  }
  return new GraphRefused(
    status,
    code,
    `Microsoft Graph refused the request: ${status} ${code}: ${safe(err.message)}`,
    {
      cause: err,
    },
  );
}

/** Retry-After as seconds (RFC 9110 §10.2.3: delay-seconds or an HTTP-date); undefined when absent or unreadable. */
function retryAfterOf(headers: Headers | undefined): number | undefined {
  const raw = headers?.get('retry-after')?.trim();
  if (!raw) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const at = Date.parse(raw);
  return Number.isNaN(at) ? undefined : Math.max(0, (at - Date.now()) / 1000);
}

/** Graph's message, short, with anything shaped like a JWT removed: a token never goes into an error. */
function safe(message: string): string {
  return message.replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[redacted]').slice(0, 300);
}

function unexpected(what: string): GraphRefused {
  return new GraphRefused(200, 'unexpectedResponse', `Microsoft Graph answered an unexpected ${what} shape`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
