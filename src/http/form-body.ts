/**
 * Reads an application/x-www-form-urlencoded body strictly (RFC 6749 §3.2: each parameter at most once;
 * §3.1: a parameter without a value counts as absent), bounded in size. Errors are the token endpoint's
 * `invalid_request`; other callers map them.
 * @module
 */
import { InvalidRequest } from '../vending/errors.js';
import type { HttpRequestLike } from './types.js';

const MAX_BODY_BYTES = 16 * 1024;

export async function readForm(
  request: HttpRequestLike,
  options: { allowEmpty?: boolean } = {},
): Promise<Map<string, string>> {
  const text = await request.text();
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only a long text needs counting.
  if (text.length > MAX_BODY_BYTES / 3 && Buffer.byteLength(text) > MAX_BODY_BYTES)
    throw new InvalidRequest(`The request body must be at most ${MAX_BODY_BYTES} bytes.`);
  if (options.allowEmpty && text.trim() === '') return new Map();
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) {
    throw new InvalidRequest('The request body must be application/x-www-form-urlencoded (RFC 6749 §4.4.2).');
  }
  const form = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of new URLSearchParams(text)) {
    if (seen.has(name))
      throw new InvalidRequest(`Parameter ${name.slice(0, 40)} is given more than once (RFC 6749 §3.2).`);
    seen.add(name);
    if (value !== '') form.set(name, value);
  }
  return form;
}
