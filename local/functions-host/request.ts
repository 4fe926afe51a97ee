/**
 * What a handler is given, built as the Node worker builds it: the library's own `HttpRequest` (a WHATWG
 * `Request` inside, from the method, URL, headers and body the host passes; `@azure/functions`
 * src/http/HttpRequest.ts) and `InvocationContext` (a fresh invocation id, the function's name and a log
 * handler; src/InvocationModel.ts `getArguments`).
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { functionsLibrary } from './core-module.js';

/**
 * The request's URL from its target and Host header, normalized by the WHATWG URL parser (dot segments,
 * percent-encoded dots, characters it escapes); undefined when they make no URL.
 */
export function requestUrl(target: string, host: string | undefined): URL | undefined {
  try {
    return new URL(target, `http://${host ?? 'localhost'}`);
  } catch {
    return undefined;
  }
}

/**
 * The headers the host passes: one string per name (Node has already joined repeated headers with ", ", and
 * kept the first of those it does not join, such as Authorization). X-Forwarded-For gets the caller's address
 * appended, as the platform's front end does (src/http/token-endpoint.ts `sourceAddress` reads it).
 */
export function requestHeaders(raw: IncomingHttpHeaders, remoteAddress: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const prior = headers['x-forwarded-for'];
  headers['x-forwarded-for'] = prior ? `${prior}, ${remoteAddress}` : remoteAddress;
  return headers;
}

export interface RequestInit {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly params: Record<string, string>;
  readonly body: Buffer;
}

/** The library's `HttpRequest` for a request the host read; `user` comes from the headers, as in Azure. */
export function httpRequest(init: RequestInit): HttpRequest {
  const { HttpRequest } = functionsLibrary();
  return new HttpRequest({
    method: init.method,
    url: init.url.href,
    headers: init.headers,
    params: init.params,
    body: init.body.length ? { bytes: init.body } : undefined,
  });
}

/** The library's `InvocationContext` for one invocation, its log lines written through `write`. */
export function invocationContext(functionName: string, write: (line: string) => void): InvocationContext {
  const { InvocationContext } = functionsLibrary();
  return new InvocationContext({
    invocationId: randomUUID(),
    functionName,
    logHandler: (level, ...args) => write(`[${functionName}] ${level}: ${args.map(String).join(' ')}`),
  });
}
