/**
 * Reads a JSON request body strictly: `application/json`, at most 64 KiB (src/http/routes/limits.ts), then
 * either checked against the route's schema (`readJsonBody`, src/http/routes/validation.ts) or, for a body
 * without one, an object holding only the fields a route names (`readJsonObject`). Bad input is a 400 problem
 * that names the field and never echoes a value.
 * @module
 */
import { badRequest, Problem } from './problem.js';
import { MAX_JSON_BODY_BYTES as MAX_BYTES } from './routes/limits.js';
import { validateBody, type RequestBodies, type RequestBodyName } from './routes/validation.js';
import type { HttpRequestLike } from './types.js';

interface ReadOptions {
  /** An empty body reads as `{}` (a body that may be left out). */
  readonly emptyIsObject?: boolean;
}

/** The body parsed as JSON: 413 past the size limit, 415 when not `application/json`, 400 when not JSON. */
async function readJson(request: HttpRequestLike, options: ReadOptions): Promise<unknown> {
  const text = await request.text();
  if (Buffer.byteLength(text) > MAX_BYTES)
    throw new Problem({
      status: 413,
      title: 'Content Too Large',
      detail: `The body must be at most ${MAX_BYTES} bytes.`,
    });
  if (text.trim() === '' && options.emptyIsObject) return {};
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new Problem({
      status: 415,
      title: 'Unsupported Media Type',
      detail: 'The body must be application/json.',
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badRequest('The body is not valid JSON.');
  }
}

/** The body, valid against the request schema `name` of the OpenAPI document. */
export async function readJsonBody<N extends RequestBodyName>(
  request: HttpRequestLike,
  name: N,
  options: ReadOptions = {},
): Promise<RequestBodies[N]> {
  return validateBody(name, await readJson(request, options));
}

/** The body as an object holding only `allowed` fields (for a body whose rules live elsewhere). */
export async function readJsonObject(
  request: HttpRequestLike,
  allowed: readonly string[],
  options: ReadOptions = {},
): Promise<Record<string, unknown>> {
  const value = await readJson(request, options);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badRequest('The body must be a JSON object.');
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length)
    throw badRequest(
      `Unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.map((k) => k.slice(0, 40)).join(', ')}; allowed: ${allowed.join(', ')}.`,
    );
  return value as Record<string, unknown>;
}
