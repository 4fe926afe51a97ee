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
  return parseForm(await request.text(), request.headers.get('content-type'), options);
}

export function isFormContentType(contentType: string | null): boolean {
  return /^application\/x-www-form-urlencoded\s*(;|$)/i.test(contentType ?? '');
}

/** `readForm` on a body already read, with the request's Content-Type. */
export function parseForm(
  text: string,
  contentType: string | null,
  options: { allowEmpty?: boolean } = {},
): Map<string, string> {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: only a long text needs counting.
  if (text.length > MAX_BODY_BYTES / 3 && Buffer.byteLength(text) > MAX_BODY_BYTES)
    throw new InvalidRequest(`The request body must be at most ${MAX_BODY_BYTES} bytes.`);
  if (options.allowEmpty && text.trim() === '') return new Map();
  if (!isFormContentType(contentType)) {
    throw new InvalidRequest('The request body must be application/x-www-form-urlencoded (RFC 6749 §4.4.2).');
  }
  const form = new Map<string, string>();
  const seen = new Set<string>();
  for (const [name, value] of pairs(text)) {
    if (seen.has(name))
      throw new InvalidRequest(`Parameter ${name.slice(0, 40)} is given more than once (RFC 6749 §3.2).`);
    seen.add(name);
    if (value !== '') form.set(name, value);
  }
  return form;
}

/**
 * The name/value pairs of a form body, exactly as `URLSearchParams` gives them (WHATWG URL
 * "application/x-www-form-urlencoded parsing"), without building one per request: the usual body (a few
 * pairs, valid percent-encoding) is split and decoded here; a body with a percent sign that is not valid
 * UTF-8 percent-encoding (which URLSearchParams decodes leniently and decodeURIComponent refuses) is left to
 * URLSearchParams. test/http/form-body.test.ts compares both on many bodies.
 */
export function pairs(text: string): [string, string][] {
  const out: [string, string][] = [];
  let from = 0;
  while (from <= text.length) {
    let to = text.indexOf('&', from);
    if (to < 0) to = text.length;
    if (to > from) {
      const eq = text.indexOf('=', from);
      const split = eq >= 0 && eq < to;
      const name = decodeFormComponent(text.slice(from, split ? eq : to));
      const value = split ? decodeFormComponent(text.slice(eq + 1, to)) : '';
      if (name === undefined || value === undefined) return [...new URLSearchParams(text)];
      out.push([name, value]);
    }
    from = to + 1;
  }
  return out;
}

/** `+` as space, then percent-decoding; undefined where the encoding is not valid UTF-8. */
function decodeFormComponent(s: string): string | undefined {
  const spaced = s.includes('+') ? s.replaceAll('+', ' ') : s;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return undefined;
  }
}
