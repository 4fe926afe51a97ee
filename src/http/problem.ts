/**
 * RFC 9457 problem details for the JSON APIs. Every expected error is a Problem carrying its status; any
 * other error becomes a generic 500 whose body says nothing about internals (STYLE.md "Errors").
 * @module
 */
import type { HttpReply } from './types.js';

export interface ProblemInit {
  readonly status: number;
  readonly title: string;
  readonly detail?: string;
  /** RFC 9457 §3.1.1: a URI reference; "about:blank" when the status says it all. */
  readonly type?: string;
  /** Extension members (RFC 9457 §3.2), e.g. `errors` for field problems. */
  readonly extensions?: Record<string, unknown>;
  readonly headers?: Record<string, string>;
}

export class Problem extends Error {
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly type: string;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(init: ProblemInit, options?: { cause?: unknown }) {
    super(init.detail ?? init.title, options);
    this.name = 'Problem';
    this.status = init.status;
    this.title = init.title;
    this.detail = init.detail;
    this.type = init.type ?? 'about:blank';
    this.extensions = init.extensions ?? {};
    this.headers = init.headers ?? {};
  }
}

export const badRequest = (detail: string, extensions?: Record<string, unknown>) =>
  new Problem({ status: 400, title: 'Bad Request', detail, extensions });
export const notFound = (detail: string) => new Problem({ status: 404, title: 'Not Found', detail });
export const serviceUnavailable = (detail: string, retryAfterSeconds: number) =>
  new Problem({
    status: 503,
    title: 'Service Unavailable',
    detail,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });

export function problemReply(problem: Problem): HttpReply {
  return {
    status: problem.status,
    headers: {
      'content-type': 'application/problem+json; charset=utf-8',
      'cache-control': 'no-store',
      ...problem.headers,
    },
    body: JSON.stringify({
      type: problem.type,
      title: problem.title,
      status: problem.status,
      ...(problem.detail !== undefined ? { detail: problem.detail } : {}),
      ...problem.extensions,
    }),
  };
}

/** Renders any thrown value: a Problem as itself, anything else as a bare 500 (logged by the caller). */
export function toProblem(err: unknown): Problem {
  if (err instanceof Problem) return err;
  return new Problem(
    { status: 500, title: 'Internal Server Error', detail: 'The broker could not complete the request.' },
    { cause: err },
  );
}
