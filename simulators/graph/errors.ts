/**
 * Microsoft Graph's error shape: `{"error":{"code","message","innerError":{"date","request-id",
 * "client-request-id"}}}` with `request-id` and `client-request-id` response headers (FACTS.md §7; G-ERR).
 * Handlers throw a {@link GraphFailure}; {@link graphRoute} renders it with the request's ids.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { json, type SimHandler, type SimRequest, type SimResponse, type SimRoute } from '../common/server.js';

/** An answer other than success, thrown by a handler and rendered as Graph renders errors. */
export class GraphFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The ids Graph puts on every response: a fresh `request-id`, and the caller's `client-request-id` echoed. */
export interface RequestIds {
  readonly requestId: string;
  readonly clientRequestId: string;
}

export function requestIds(req?: SimRequest): RequestIds {
  const requestId = randomUUID();
  const sent = req?.headers['client-request-id'];
  const clientRequestId = typeof sent === 'string' && sent ? sent : requestId;
  return { requestId, clientRequestId };
}

export function idHeaders(ids: RequestIds): Record<string, string> {
  return { 'request-id': ids.requestId, 'client-request-id': ids.clientRequestId };
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  ids: RequestIds = requestIds(),
  headers: Record<string, string> = {},
): SimResponse {
  return json(
    status,
    {
      error: {
        code,
        message,
        innerError: {
          // Graph's innerError date has no fraction and no zone, e.g. "2021-12-09T17:41:54"
          // (sample in MicrosoftDocs/azure-docs daemon troubleshooting; G-ERR shows "date-time").
          date: new Date().toISOString().slice(0, 19),
          'request-id': ids.requestId,
          'client-request-id': ids.clientRequestId,
        },
      },
    },
    { ...idHeaders(ids), ...headers },
  );
}

/**
 * The code Graph uses for a bare status (faults injected by simulators/common/server.ts, unknown methods).
 * Top-level codes are G-ERR's list; `InvalidAuthenticationToken` for 401 is what Graph answers to a missing or
 * bad token (https://github.com/microsoftgraph/msgraph-sample-reactspa/issues/54, third-party only).
 */
export function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'InvalidAuthenticationToken';
    case 403:
      return 'accessDenied';
    case 404:
      return 'itemNotFound';
    case 405:
      return 'notSupported';
    case 429:
      // G-ERR: "activityLimitReached — The app or user has been throttled."
      return 'activityLimitReached';
    case 503:
      // G-ERR: "serviceNotAvailable — … Try the request again after a delay. There may be a Retry-After header."
      return 'serviceNotAvailable';
    default:
      return status >= 500 ? 'generalException' : 'invalidRequest';
  }
}

/** Wraps a handler: every answer carries the request ids, and a thrown GraphFailure becomes Graph's error body. */
export function graphRoute(
  method: string,
  path: string,
  handler: (req: SimRequest, ids: RequestIds) => Promise<SimResponse> | SimResponse,
): SimRoute {
  const wrapped: SimHandler = async (req) => {
    const ids = requestIds(req);
    try {
      const res = await handler(req, ids);
      return { ...res, headers: { ...idHeaders(ids), ...res.headers } };
    } catch (err) {
      if (err instanceof GraphFailure)
        return errorResponse(err.status, err.code, err.message, ids, err.headers);
      throw err;
    }
  };
  return { method, path, handler: wrapped };
}
