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
  /** For the device-code flow: the device asking (its customer reference), named on the page. */
  readonly device?: string;
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
    body: html`${
        input.device
          ? html`<p class="note">
              The device asking: <strong>${input.device}</strong>. Go on only if this code is shown by your
              own organization's phone system, and you started it.
            </p>`
          : ''
      }
      <p>
        ${vendor}'s equipment asks to use a mailbox as its own user, so that it can, for that mailbox only:
      </p>
      ${permissions(input.profiles)}
      <p>
        ${who}. Your password stays with Microsoft; ${vendor} keeps only what Microsoft gives back for this
        equipment, and your administrator can end it at any time.
      </p>
      <p><a class="button" href="${safeHref(input.goUrl)}">Sign in at Microsoft</a></p>
      <p class="note">
        ${input.device ? 'This code' : 'This link'} works until
        ${input.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.
      </p>`,
  };
}

export function grantResultPage(input: {
  readonly vendorName?: string;
  readonly userPrincipalName: string;
  readonly profiles: readonly Profile[];
  /** Signed in for a device that waits (device-code flow). */
  readonly device?: boolean;
}): Page {
  const vendor = input.vendorName ?? 'the vendor';
  return {
    status: 200,
    title: 'Your mailbox is connected',
    body: html`<div class="status status-ok">
        <p>The equipment can now use the mailbox of <strong>${input.userPrincipalName}</strong>, for:</p>
      </div>
      ${permissions(input.profiles)}
      <p>
        ${input.device ? 'Your device goes on by itself within a few seconds. ' : ''}You can close this page.
        To end it, ask your administrator or ${vendor}.
      </p>`,
  };
}

/**
 * The device-code flow's verification page (RFC 8628 §3.3): where the user types the code their device shows.
 * A plain GET form: entering a code changes nothing; the sign-in starts only from the page it leads to.
 */
export function deviceCodePage(input: {
  readonly action: string;
  /** What the code is for, as the device says it; default: connecting a mailbox. */
  readonly purpose?: string;
}): Page {
  return {
    status: 200,
    title: 'Enter the code from your device',
    body: html`<p>
        Your phone system shows a code ${input.purpose ?? 'to connect a mailbox'}. Enter it here.
      </p>
      <form method="get" action="${safeHref(input.action)}">
        <p>
          <label for="user_code">Code</label>
          <input
            id="user_code"
            name="user_code"
            type="text"
            inputmode="text"
            autocomplete="one-time-code"
            autocapitalize="characters"
            spellcheck="false"
            maxlength="9"
            pattern="[A-Za-z]{4}-?[A-Za-z]{4}"
            required
          />
        </p>
        <p class="actions"><button class="button" type="submit">Next</button></p>
      </form>
      <p class="note">The code has eight letters, for example BCDF-GHJK, and works for 15 minutes.</p>`,
  };
}
