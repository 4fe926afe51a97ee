/**
 * The `networkClient` given to MSAL (msal.ts explains why it is ours): `node:https` with keep-alive
 * connections shared by all tenants (`EntraAgents`), a deadline per request (acquire-deadline.ts within an
 * `acquireAppToken`), 429/5xx and transport failures as EntraUnavailable with their `Retry-After`, and every
 * HTTP request to Entra measured (`BrokerMetrics.entraRequest`).
 * @module
 */
import type { INetworkModule, NetworkRequestOptions, NetworkResponse } from '@azure/msal-node';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { acquireDeadline } from './acquire-deadline.js';
import {
  DEFAULT_THROTTLE_SECONDS,
  DEFAULT_UNAVAILABLE_SECONDS,
  PortErrorCarrier,
  parseRetryAfter,
  refusalFromBody,
} from './msal-errors.js';
import { EntraRefused, EntraUnavailable } from './port.js';
import type { BrokerMetrics, EntraRequestOutcome } from '../telemetry/port.js';

/**
 * Keep-alive connections to Entra, shared by every tenant's client. `node:http(s)` rather than `fetch`:
 * `fetch` left native memory behind per request and kept growing, while `https.request` with a keep-alive
 * agent grew by what the answers themselves held (docs/performance.md, "HTTP to Entra").
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
