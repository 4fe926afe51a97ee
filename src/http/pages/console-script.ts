/**
 * The support console's one script (issue 22): the copy buttons next to the PowerShell a check prints. Served
 * from the broker as a file (`GET /assets/console.js`), never inline and never from a CDN; the console pages
 * allow exactly this origin's scripts (`script-src 'self'`), the consent pages none. Without it (script off)
 * the PowerShell stays selectable text and nothing else changes.
 * @module
 */
import { createHash } from 'node:crypto';
import type { HttpReply } from '../types.js';

/** Each `button[data-copy]` copies the text of the element whose id it names, and says so. */
export const CONSOLE_JS = `'use strict';
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button[data-copy]') : null;
  if (!button) return;
  const source = document.getElementById(button.getAttribute('data-copy') || '');
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent || '').then(
    () => {
      button.textContent = 'Copied';
    },
    () => {
      button.textContent = 'Select the text to copy it';
    },
  );
});
document.querySelectorAll('button[data-copy]').forEach((b) => {
  b.hidden = !navigator.clipboard;
});
`;

export const CONSOLE_SCRIPT_PATH = `/assets/console.js?v=${createHash('sha256').update(CONSOLE_JS).digest('hex').slice(0, 12)}`;

/** `GET /assets/console.js`: cacheable for a year (its URL changes with its text). */
export function consoleScriptReply(): HttpReply {
  return {
    status: 200,
    headers: {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=31536000, immutable',
      'x-content-type-options': 'nosniff',
    },
    body: CONSOLE_JS,
  };
}
