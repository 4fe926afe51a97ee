/**
 * The pages' one stylesheet, served from `/assets/broker.css` (functions/assets.ts) so that the
 * Content-Security-Policy needs no inline style. Its URL carries a hash of its text, so it can be cached
 * for a year and still change with a deployment.
 *
 * Accessibility (WCAG 2.2 AA): text colours reach at least 4.5:1 on their background (1.4.3); focus is a
 * 3px outline in the text colour (2.4.7, 1.4.11); sizes are in rem and the layout is one column with no
 * fixed widths, so it reflows at 320 CSS px, i.e. 200 % zoom of a 640 px window (1.4.4, 1.4.10); status
 * boxes carry a text label, their colour only repeats it (1.4.1). The browser tests measure these.
 * @module
 */
import { createHash } from 'node:crypto';
import type { HttpReply } from '../types.js';

export const BROKER_CSS = `:root {
  color-scheme: light;
  --text: #1b1b1f;
  --muted: #45474f;
  --bg: #ffffff;
  --panel: #f1f3f6;
  --accent: #0b4fb3;
  --accent-dark: #083a85;
  --ok: #1a6b32;
  --wait: #8a5300;
  --bad: #a4262c;
}
*,
*::before,
*::after {
  box-sizing: border-box;
}
html {
  font-size: 100%;
  -webkit-text-size-adjust: 100%;
  text-size-adjust: 100%;
}
body {
  margin: 0;
  color: var(--text);
  background: var(--bg);
  font-family: system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif;
  line-height: 1.5;
}
main {
  max-width: 44rem;
  margin: 0 auto;
  padding: 2rem 1.25rem 3rem;
}
h1 {
  font-size: 1.75rem;
  line-height: 1.25;
  margin: 0 0 1rem;
}
h2 {
  font-size: 1.3rem;
  line-height: 1.3;
  margin: 2rem 0 0.5rem;
}
h3 {
  font-size: 1.1rem;
  margin: 1.25rem 0 0.25rem;
}
p,
ul,
ol,
dl {
  margin: 0 0 1rem;
}
ul,
ol {
  padding-left: 1.5rem;
}
li + li {
  margin-top: 0.4rem;
}
code {
  font-family: ui-monospace, 'Cascadia Mono', Consolas, 'Liberation Mono', monospace;
  font-size: 0.95em;
  color: var(--text);
  background: var(--panel);
  padding: 0.05em 0.3em;
  border-radius: 3px;
  overflow-wrap: anywhere;
}
a {
  color: var(--accent);
  text-decoration: underline;
  overflow-wrap: anywhere;
}
a:hover {
  color: var(--accent-dark);
}
a:focus-visible {
  outline: 3px solid var(--text);
  outline-offset: 2px;
}
.lead {
  font-size: 1.125rem;
}
.note {
  color: var(--muted);
}
.actions {
  margin: 2rem 0;
}
.button {
  display: inline-block;
  padding: 0.75rem 1.5rem;
  font-size: 1.125rem;
  font-weight: 600;
  line-height: 1.3;
  color: #ffffff;
  background: var(--accent);
  border: 2px solid var(--accent);
  border-radius: 6px;
  text-decoration: none;
}
button.button {
  font-family: inherit;
  cursor: pointer;
}
.button:hover {
  color: #ffffff;
  background: var(--accent-dark);
  border-color: var(--accent-dark);
}
.button:focus-visible {
  outline: 3px solid var(--text);
  outline-offset: 3px;
}
.status {
  margin: 0 0 1.5rem;
  padding: 0.75rem 1rem;
  border: 2px solid var(--text);
  border-left-width: 0.5rem;
  border-radius: 4px;
  background: var(--bg);
}
.status > :last-child {
  margin-bottom: 0;
}
.status-label {
  font-weight: 700;
}
.status-ok {
  border-color: var(--ok);
}
.status-wait {
  border-color: var(--wait);
}
.status-error {
  border-color: var(--bad);
}
.facts {
  display: grid;
  grid-template-columns: max-content minmax(0, 1fr);
  gap: 0.25rem 1rem;
}
.facts dt {
  font-weight: 600;
}
.facts dd {
  margin: 0;
  overflow-wrap: anywhere;
}
@media (max-width: 30rem) {
  .facts {
    grid-template-columns: minmax(0, 1fr);
  }
  .facts dd {
    margin-bottom: 0.5rem;
  }
}
main.wide {
  max-width: 72rem;
  /* Support data holds long words (URLs, ids, codes in messages): they break rather than widen the page. */
  overflow-wrap: anywhere;
}
.console-nav {
  display: flex;
  flex-wrap: wrap;
  align-items: baseline;
  gap: 0.5rem 1.25rem;
  margin: 0 0 1.5rem;
  padding: 0 0 0.75rem;
  border-bottom: 1px solid var(--muted);
}
.console-nav a[aria-current='page'] {
  font-weight: 700;
  text-decoration: none;
}
form.inline {
  display: inline;
  margin: 0;
}
.link-button {
  font: inherit;
  color: var(--accent);
  background: none;
  border: 0;
  padding: 0;
  text-decoration: underline;
  cursor: pointer;
}
.link-button:focus-visible,
input:focus-visible,
select:focus-visible,
textarea:focus-visible {
  outline: 3px solid var(--text);
  outline-offset: 2px;
}
.table-wrap {
  overflow-x: auto;
  margin: 0 0 1rem;
}
/* A data table keeps its words whole and scrolls inside its wrapper on a narrow screen (WCAG 2.2 1.4.10 allows
   two-dimensional scrolling for tables); ids and codes in it still break. */
.table-wrap th,
.table-wrap td {
  overflow-wrap: normal;
}
table {
  border-collapse: collapse;
  width: 100%;
}
th,
td {
  text-align: left;
  vertical-align: top;
  padding: 0.4rem 0.6rem;
  border-bottom: 1px solid var(--panel);
  overflow-wrap: anywhere;
}
thead th {
  border-bottom: 2px solid var(--muted);
}
.badge {
  display: inline-block;
  padding: 0 0.4rem;
  border: 2px solid var(--text);
  border-radius: 4px;
}
.search {
  display: flex;
  flex-wrap: wrap;
  align-items: flex-end;
  gap: 0.5rem 1rem;
  margin: 0 0 1.5rem;
}
.search label {
  display: block;
  font-weight: 600;
}
input,
select,
textarea {
  font: inherit;
  color: var(--text);
  background: var(--bg);
  border: 2px solid var(--muted);
  border-radius: 4px;
  padding: 0.3rem 0.5rem;
  max-width: 100%;
}
.button.small {
  padding: 0.35rem 1rem;
  font-size: 1rem;
}
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}
.timeline {
  padding-left: 1.5rem;
}
figure.chart {
  margin: 0 0 1.5rem;
}
figure.chart svg {
  display: block;
  width: 100%;
  max-width: 48rem;
  height: auto;
}
figure.chart figcaption {
  color: var(--muted);
}
pre {
  font-family: ui-monospace, 'Cascadia Mono', Consolas, 'Liberation Mono', monospace;
  background: var(--panel);
  padding: 0.75rem;
  border-radius: 4px;
  white-space: pre-wrap;
  overflow-wrap: anywhere;
  margin: 0 0 0.5rem;
}
ul.checks {
  list-style: none;
  padding: 0;
}
li.check {
  padding: 0.5rem 0.75rem;
  border-left: 0.4rem solid var(--text);
}
li.check.status-ok {
  border-left-color: var(--ok);
}
li.check.status-wait {
  border-left-color: var(--wait);
}
li.check.status-error {
  border-left-color: var(--bad);
}
fieldset {
  border: 1px solid var(--muted);
  border-radius: 4px;
  margin: 0.5rem 0;
}
fieldset label {
  display: block;
}
textarea {
  width: 100%;
  display: block;
}
form label {
  display: block;
  font-weight: 600;
  margin: 0.5rem 0 0.25rem;
}
form.inline label,
fieldset label {
  font-weight: 400;
}
.button.danger {
  background: var(--bad);
  border-color: var(--bad);
}
.button.danger:hover {
  background: #7a1c21;
  border-color: #7a1c21;
}
@media (forced-colors: active) {
  .button {
    border-color: ButtonText;
  }
}
`;

/** Path of the stylesheet with a content hash, for the pages' `<link>`. The route ignores the query. */
export const STYLESHEET_PATH = `/assets/broker.css?v=${createHash('sha256').update(BROKER_CSS).digest('hex').slice(0, 12)}`;

/** `GET /assets/broker.css`: the stylesheet, cacheable for a year (its URL changes with its text). */
export function stylesheetReply(): HttpReply {
  return {
    status: 200,
    headers: {
      'content-type': 'text/css; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    },
    body: BROKER_CSS,
  };
}
