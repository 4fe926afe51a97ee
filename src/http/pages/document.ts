/**
 * A page as the broker sends it: a complete HTML5 document around a body fragment, with the headers that
 * keep it inert (no script of any kind, no inline style), unframeable, uncached, and from leaking the
 * consent link's code to other sites in `Referer`.
 * @module
 */
import type { HttpReply } from '../types.js';
import { html, type SafeHtml } from './html.js';
import { STYLESHEET_PATH } from './stylesheet.js';

/** What a page builder returns; `pageReply` turns it into a reply. */
export interface Page {
  readonly status: number;
  /** The document's `<title>` and its one `<h1>`. */
  readonly title: string;
  /** The content of `<main>` after the `<h1>`. */
  readonly body: SafeHtml;
  /** BCP 47 language tag of the text; `en` when absent. */
  readonly lang?: string;
  /** A wider column, for the support console's tables. */
  readonly wide?: boolean;
  /**
   * The support console's script (src/http/pages/console-script.ts), loaded from this origin: the page's CSP
   * then allows `script-src 'self'` and nothing more. Consent pages have none.
   */
  readonly script?: string;
  /** Extra headers, e.g. `retry-after` on a 503. They cannot replace the security headers below. */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The pages load nothing but the stylesheet from this origin. No script source at all, so any markup that
 * slipped through escaping still runs nothing (CSP3 §6.1.12 `script-src` falls back to `default-src`).
 * `form-action 'self'`: no page posts anywhere else; "Continue to Microsoft" is a plain link, since a form
 * whose submission is redirected to login.microsoftonline.com would need `https:` here (CSP3 §6.4.1
 * applies form-action to redirects too). `base-uri 'none'` stops a `<base>` from re-rooting relative links.
 */
export const PAGE_CSP =
  "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** The CSP of a support console page with its script: this origin's scripts, nothing inline. */
export const CONSOLE_CSP = PAGE_CSP.replace("default-src 'none';", "default-src 'none'; script-src 'self';");

/** Headers every page carries. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/html; charset=utf-8',
  // The landing page holds a live consent code and result pages name a tenant: keep them out of caches.
  'cache-control': 'no-store',
  'content-security-policy': PAGE_CSP,
  // For browsers without CSP frame-ancestors (RFC 7034).
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  // The URL of /connect/{code} is a credential of sorts: never send it to Microsoft or anyone in Referer.
  'referrer-policy': 'no-referrer',
});

export function pageReply(page: Page): HttpReply {
  const lang = /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(page.lang ?? '') ? page.lang : 'en';
  const document = html`<!doctype html>
    <html lang="${lang}">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>${page.title}</title>
        <link rel="stylesheet" href="${STYLESHEET_PATH}" />
        ${page.script ? html`<script src="${page.script}" defer></script>` : ''}
      </head>
      <body>
        <main${page.wide ? html` class="wide"` : ''}>
          <h1>${page.title}</h1>
          ${page.body}
        </main>
      </body>
    </html> `;
  return {
    status: page.status,
    headers: {
      ...extraHeaders(page.headers),
      ...PAGE_HEADERS,
      ...(page.script ? { 'content-security-policy': CONSOLE_CSP } : {}),
    },
    body: document.toString(),
  };
}

function extraHeaders(headers: Page['headers']): Record<string, string> {
  return Object.fromEntries(
    Object.entries(headers ?? {}).filter(([name]) => !(name.toLowerCase() in PAGE_HEADERS)),
  );
}
