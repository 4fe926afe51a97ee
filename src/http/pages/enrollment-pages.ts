/**
 * The pages of a PBX's self-enrollment (src/appliances/enrollment.ts): where the admin types the code the device
 * shows, and what that device asks to be allowed, before Microsoft's consent and sign-in. The device is bound only
 * later, on the confirmation page (confirm-page.ts), by the admin who signed in, in this browser.
 * @module
 */
import type { Profile } from '../../profiles/profiles.js';
import type { Page } from './document.js';
import { html, safeHref } from './html.js';

/** The profiles' permissions, each in plain words with its technical name. */
export function profilePermissions(profiles: readonly Profile[]) {
  return html`<ul class="permissions">
    ${profiles.map(
      (p) =>
        html`<li>
          <strong>${p.title}</strong>:
          ${[...p.roles.map((r) => r.value), ...p.scopes.map((s) => s.value)].map(
            (v, i) => html`${i ? ', ' : ''}<code>${v}</code>`,
          )}
        </li>`,
    )}
  </ul>`;
}

export function enrollmentLandingPage(input: {
  readonly vendorName?: string;
  readonly userCode: string;
  readonly customerRef: string;
  readonly profiles: readonly Profile[];
  readonly goUrl: string;
  readonly expiresAt: Date;
}): Page {
  const vendor = input.vendorName ?? 'The vendor';
  return {
    status: 200,
    title: 'Connect a device to your organization',
    body: html`<p class="note">
        The device asking shows the code <strong>${input.userCode}</strong> (reference
        <strong>${input.customerRef}</strong>). Go on only if it is your organization's own ${vendor} device
        and you started this on it.
      </p>
      <p>Once connected, the device gets its own credential from ${vendor}'s service and may use:</p>
      ${profilePermissions(input.profiles)}
      <p>
        Next you approve ${vendor}'s application at Microsoft (if your organization has not yet) and sign in
        as an administrator; then you confirm this device. Nothing is connected until you confirm.
      </p>
      <p><a class="button" href="${safeHref(input.goUrl)}">Sign in at Microsoft</a></p>
      <p class="note">
        This code works until ${input.expiresAt.toISOString().slice(0, 16).replace('T', ' ')} UTC.
      </p>`,
  };
}
