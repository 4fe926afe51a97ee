/**
 * Reads a JSON request body strictly: `application/json`, at most 64 KiB, an object, and only the fields a
 * route names. Bad input is a 400 problem that names the field and never echoes a value.
 * @module
 */
import { badRequest, Problem } from './problem.js';
import { MAX_JSON_BODY_BYTES as MAX_BYTES } from './routes/limits.js';
import type { HttpRequestLike } from './types.js';

export async function readJsonObject(
  request: HttpRequestLike,
  allowed: readonly string[],
  options: { emptyIsObject?: boolean } = {},
): Promise<Record<string, unknown>> {
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
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('The body is not valid JSON.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badRequest('The body must be a JSON object.');
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length)
    throw badRequest(
      `Unknown field${unknown.length > 1 ? 's' : ''}: ${unknown.map((k) => k.slice(0, 40)).join(', ')}; allowed: ${allowed.join(', ')}.`,
    );
  return value as Record<string, unknown>;
}
