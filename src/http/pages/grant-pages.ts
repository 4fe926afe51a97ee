/**
 * The pages a mailbox's user meets (README "Delegated mailboxes"): the link's landing — what the equipment will
 * be able to do with their mailbox, in plain words, and a "Sign in at Microsoft" link — and the result once the
 * broker keeps their sign-in. Nothing a request carried is shown except through escaping.
 * @module
 */
import type { Profile } from '../../profiles/profiles.js';
import type { Page } from './document.js';
import { html, safeHref } from './html.js';

export interface GrantLandingInput {
  readonly vendorName?: string;
  /** The mailbox named by support, or null: whoever signs in. */
  readonly mailbox: string | null;
  readonly profiles: readonly Profile[];
  readonly goUrl: string;
  readonly expiresAt: Date;
}

function permissions(profiles: readonly Profile[]) {
  return html`<ul class="permissions">
    ${profiles.flatMap((p) => p.scopes).map((s) => html`<li>${s.description} <code>${s.value}</code></li>`)}
  </ul>`;
}

export function grantLandingPage(input: GrantLandingInput): Page {
  const vendor = input.vendorName ?? 'The vendor';
  const who = input.mailbox
    ? html`Sign in as <strong>${input.mailbox}</strong>`
    : html`Sign in with the account of the mailbox the equipment should use`;
  return {
    status: 200,
    title: 'Let your phone system use your mailbox',
    body: html`<p>
        ${vendor}'s equipment asks to use a mailbox as its own user, so that it can, for that mailbox only:
      </p>
      ${permissions(input.profiles)}
      <p>
        ${who}. Your password stays with Microsoft; ${vendor} keeps only what Microsoft gives back for this
        equipment, and your administrator can end it at any time.
      </p>
      <p><a class="button" href="${safeHref(input.goUrl)}">Sign in at Microsoft</a></p>
      <p class="note">
        This link works until ${input.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.
      </p>`,
  };
}

export function grantResultPage(input: {
  readonly vendorName?: string;
  readonly userPrincipalName: string;
  readonly profiles: readonly Profile[];
}): Page {
  const vendor = input.vendorName ?? 'the vendor';
  return {
    status: 200,
    title: 'Your mailbox is connected',
    body: html`<div class="status status-ok">
        <p>The equipment can now use the mailbox of <strong>${input.userPrincipalName}</strong>, for:</p>
      </div>
      ${permissions(input.profiles)}
      <p>You can close this page. To end it, ask your administrator or ${vendor}.</p>`,
  };
}
