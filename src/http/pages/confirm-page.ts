/**
 * The page an admin sees after consenting through a link tied to an appliance: the
 * consent is recorded, but the appliance is bound to the tenant only when the admin confirms that this is
 * their equipment. It names the appliance (its client id) and the customer reference it was registered with,
 * so an admin who was sent someone else's link sees a stranger's device and does not confirm. The form's one
 * hidden field is a single-use state bound to this browser: the CSRF token (RFC 6749 §10.12).
 * @module
 */
import type { Page } from './document.js';
import { html } from './html.js';
import type { Profile } from '../../profiles/profiles.js';
import { profilePermissions } from './enrollment-pages.js';

export interface ConfirmPageInput {
  readonly vendorName?: string;
  readonly tenantName?: string | null;
  readonly tenantId: string;
  readonly appliance: { readonly clientId: string; readonly customerRef: string };
  /** What the appliance will be allowed to use (its profiles). */
  readonly profiles?: readonly Profile[];
  /** Where the form posts (`/consent/confirm`) and the state it carries. */
  readonly action: string;
  readonly state: string;
}

export function confirmPage(input: ConfirmPageInput): Page {
  const vendor = input.vendorName ?? 'the vendor';
  const organization = input.tenantName ?? 'your organization';
  const body = html`<div class="status status-wait">
      <p>
        <span class="status-label">One more step.</span> Your consent was received. Confirm that the equipment
        below is yours before it may use ${organization}'s Microsoft 365.
      </p>
    </div>
    <h2>The equipment that asked for this link</h2>
    <dl class="facts">
      <dt>Customer reference</dt>
      <dd>${input.appliance.customerRef}</dd>
      <dt>Appliance ID</dt>
      <dd><code>${input.appliance.clientId}</code></dd>
    </dl>
    ${
      input.profiles?.length
        ? html`<h2>What it will be allowed to use</h2>
            ${profilePermissions(input.profiles)}`
        : ''
    }
    <p>
      Compare these with what ${vendor}'s appliance shows (its Microsoft 365 or authorization settings). If
      you do not recognise them, do not connect: close this page and contact ${vendor}. Nothing is connected
      until you confirm.
    </p>
    <form method="post" action="${input.action}">
      <input type="hidden" name="state" value="${input.state}" />
      <p class="actions"><button class="button" type="submit">Connect this appliance</button></p>
    </form>
    <h2>Your organization</h2>
    <dl class="facts">
      ${
        input.tenantName
          ? html`<dt>Name</dt>
              <dd>${input.tenantName}</dd>`
          : ''
      }
      <dt>Tenant ID</dt>
      <dd><code>${input.tenantId}</code></dd>
    </dl>`;
  return { status: 200, title: 'Connect this appliance?', body };
}
