/**
 * What the broker reports as metrics, in the domain's words. The one implementation (otel-metrics.ts) records
 * them with the OpenTelemetry API; with no OpenTelemetry SDK registered (no APPLICATIONINSIGHTS_CONNECTION_STRING)
 * every call is a no-op there, so the code is the same in the sandbox, in tests and in Azure.
 *
 * Every attribute value is a bounded label (a configured resource scope, an OAuth error code, an AADSTS number,
 * an audit action): never a secret, token, client id, tenant id or URL (SPEC.md "Guarantees").
 * The metric names, units and attributes are listed in docs/decisions.md ("Observability").
 * @module
 */

/** How one HTTP request to Entra ID ended (src/adapters/entra/msal.ts). */
export type EntraRequestOutcome =
  /** 2xx. */
  | 'ok'
  /** Entra answered with an OAuth error (4xx): `aadsts` says why. */
  | 'refused'
  /** 429: Entra throttles the app. */
  | 'throttled'
  /** 5xx, timeout, connection failure. */
  | 'unavailable';

export interface EntraRequestSample {
  /** `token` (POST to the token endpoint) or `metadata` (GET of the OpenID configuration). */
  readonly request: 'token' | 'metadata';
  readonly outcome: EntraRequestOutcome;
  readonly durationMs: number;
  /** The AADSTS number of a refusal ("7000229"), when Entra gave one. */
  readonly aadsts?: string | undefined;
}

/** What the token cache counts (src/vending/token-cache.ts `stats()`); read at each collection, not per lookup. */
export interface TokenCacheCounters {
  readonly hits: number;
  readonly misses: number;
  readonly entraRequests: number;
  readonly size: number;
}

export interface BrokerMetrics {
  /**
   * The token endpoint vended a token for `resource` (the profile resource's `.default` scope). On the warm
   * path: one counter add with an attribute object built once per resource; nothing else.
   */
  tokenVended(resource: string): void;
  /** The token endpoint answered an error: its RFC 6749 §5.2 code (`server_error` for a 500). */
  tokenError(error: string): void;
  /** One HTTP request to Entra ID ended. */
  entraRequest(sample: EntraRequestSample): void;
  /** A consent outcome was audited (`consent.granted` → `granted`), with its AADSTS or reason code. */
  consentOutcome(outcome: string, code?: string): void;
  /** Reports the token cache's hit, miss and size counters at each collection (no cost per lookup). */
  observeTokenCache(read: () => TokenCacheCounters): void;
}

/** Records nothing: for code paths built without metrics (unit tests of the domain). */
export const noMetrics: BrokerMetrics = {
  tokenVended: () => undefined,
  tokenError: () => undefined,
  entraRequest: () => undefined,
  consentOutcome: () => undefined,
  observeTokenCache: () => undefined,
};
