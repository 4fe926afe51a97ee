/**
 * HTML built from a tagged template that escapes every interpolation. Text becomes HTML only by passing
 * through `html` (escaped) or by being a SafeHtml already; there is no "raw" door, so nothing a request
 * carries (a customer reference, an `error_description`, a tenant name) can reach a page unescaped.
 * @module
 */

/** A fragment of HTML that this module built, and so is trusted. Only `html` and `joinHtml` create one. */
export class SafeHtml {
  readonly #text: string;
  /** @internal Use `html` to build one. */
  constructor(text: string, key: symbol) {
    if (key !== construct) throw new TypeError('SafeHtml is built with html`…`, never directly');
    this.#text = text;
  }
  toString(): string {
    return this.#text;
  }
}

const construct = Symbol('SafeHtml');

/** What may be interpolated: text (escaped), numbers, trusted fragments, lists of them; nothing renders as ''. */
export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/**
 * Escapes text for element content and for quoted attribute values (HTML Living Standard §13.1.2.3: every
 * attribute here is double-quoted, so `"` and `&` are the ones that matter; `'`, `<`, `>` and backtick are
 * escaped too so that a fragment stays inert wherever it lands).
 */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => entities[c] ?? c);
}

function render(value: HtmlValue): string {
  if (value instanceof SafeHtml) return value.toString();
  if (value === null || value === undefined || value === false) return '';
  if (Array.isArray(value)) return value.map((v: HtmlValue) => render(v)).join('');
  return escapeHtml(String(value));
}

/** html`<p>${text}</p>`: the literal parts are trusted (they are our source code), every value is escaped. */
export function html(strings: TemplateStringsArray, ...values: readonly HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new SafeHtml(out, construct);
}

/** Joins fragments (each escaped unless already SafeHtml) with a trusted separator. */
export function joinHtml(values: readonly HtmlValue[], separator: SafeHtml = html``): SafeHtml {
  return new SafeHtml(values.map((v) => render(v)).join(separator.toString()), construct);
}

/**
 * A URL for an `href`: absolute http(s), or a path on this origin. Anything else (`javascript:`, `data:`,
 * protocol-relative `//host`) is a bug in the caller and throws rather than producing a live link.
 */
export function safeHref(url: string): string {
  if (/^\/(?!\/)/.test(url)) return url;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new RangeError('link target is neither an absolute http(s) URL nor a path on this site', {
      cause: err,
    });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new RangeError(`link target has scheme ${parsed.protocol}; only http(s) is allowed`);
  return parsed.href;
}
