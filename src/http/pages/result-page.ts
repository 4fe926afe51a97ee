/**
 * The page the consent callback ends on (SPEC.md "Customers"): what was granted, what is missing and how to
 * fix it, or that a consent Entra accepted is still being confirmed. That last case is directory
 * replication (FACTS.md §3: AADSTS700016 / 7000229 right after consent); the broker re-checks by itself,
 * so the page never asks the admin to wait and retry.
 * @module
 */
import { GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR } from '../../consent/admin-roles.js';
import type { Page } from './document.js';
import { html, safeHref } from './html.js';

export type ConsentOutcome = 'granted' | 'verifying' | 'incomplete';

export interface ConsentResultInput {
  readonly outcome: ConsentOutcome;
  /** Named in the text when given; "the vendor" otherwise. */
  readonly vendorName?: string;
  readonly tenantName?: string | null;
  readonly tenantId: string;
  readonly verifiedDomains?: readonly string[];
  /** App roles proven granted, by resource (its display name). */
  readonly granted: readonly { readonly resource: string; readonly roles: readonly string[] }[];
  /** App roles a requested profile needs and the tenant has not granted. */
  readonly missing: readonly { readonly profileTitle: string; readonly roles: readonly string[] }[];
  /** A new consent link that asks for everything again. */
  readonly reconsentUrl?: string;
}

const FIXERS = `${GLOBAL_ADMINISTRATOR.name} or a ${PRIVILEGED_ROLE_ADMINISTRATOR.name}`;

export function consentResultPage(input: ConsentResultInput): Page {
  const vendor = input.vendorName ?? 'the vendor';
  const Vendor = input.vendorName ?? 'The vendor';
  const missing = input.missing.filter((m) => m.roles.length > 0);
  const outcome = input.outcome === 'granted' && missing.length > 0 ? 'incomplete' : input.outcome;
  const granted = input.granted.filter((g) => g.roles.length > 0);

  const tenant = html`<h2>Your organization</h2>
    <dl class="facts">
      ${
        input.tenantName
          ? html`<dt>Name</dt>
              <dd>${input.tenantName}</dd>`
          : ''
      }
      <dt>Tenant ID</dt>
      <dd><code>${input.tenantId}</code></dd>
      ${
        input.verifiedDomains && input.verifiedDomains.length > 0
          ? html`<dt>Domains</dt>
              <dd>${input.verifiedDomains.join(', ')}</dd>`
          : ''
      }
    </dl>`;

  const grantedList =
    granted.length > 0
      ? html`<h2>Granted permissions</h2>
          ${granted.map(
            (g) =>
              html`<h3>${g.resource}</h3>
                <ul>
                  ${g.roles.map((r) => html`<li><code>${r}</code></li>`)}
                </ul> `,
          )}`
      : '';

  const mailboxNote = granted.some((g) => g.roles.some((r) => /^(IMAP|POP|SMTP)\./i.test(r)))
    ? html`<p>
        For mail over IMAP, POP or SMTP, your Exchange administrator also chooses which mailboxes the app may
        use; ${vendor} will tell you which.
      </p>`
    : '';
  const removal = html`<p>
    You can remove this access at any time in the Microsoft Entra admin center, under Enterprise applications.
  </p>`;

  if (outcome === 'verifying') {
    const body = html`<div class="status status-wait">
        <p>
          <span class="status-label">In progress.</span> Microsoft has accepted your consent. It takes a short
          while until Microsoft's systems everywhere know about it, so this service confirms it by itself in
          the background.
        </p>
      </div>
      <p>
        <strong>You do not need to do anything more.</strong> You can close this page. ${vendor} sees the
        progress and is told when the consent is confirmed.
      </p>
      ${tenant} ${grantedList} `;
    return { status: 200, title: 'Consent received', body };
  }

  if (outcome === 'incomplete') {
    const fix = input.reconsentUrl
      ? html`<p>
            Open the consent page again and approve every permission it lists, signed in as a ${FIXERS}:
          </p>
          <p class="actions">
            <a class="button" href="${safeHref(input.reconsentUrl)}">Open the consent page again</a>
          </p>`
      : html`<p>
          Ask ${vendor} for a new consent link, and approve every permission it lists, signed in as a
          ${FIXERS}.
        </p>`;
    const body = html`<div class="status status-error">
        <p>
          <span class="status-label">Action needed.</span> Your organization is connected, but some
          permissions were not granted, so part of ${vendor}'s equipment will not work yet.
        </p>
      </div>
      <h2>Missing permissions</h2>
      ${missing.map(
        (m) =>
          html`<h3>${m.profileTitle}</h3>
            <ul>
              ${m.roles.map((r) => html`<li><code>${r}</code></li>`)}
            </ul> `,
      )}
      <h2>How to fix it</h2>
      ${fix}
      <p class="note">
        This also restores permissions that were removed in the Microsoft Entra admin center after an earlier
        consent.
      </p>
      ${tenant} ${grantedList} `;
    return { status: 200, title: 'Some permissions are missing', body };
  }

  const body = html`<div class="status status-ok">
      <p>
        <span class="status-label">Done.</span> Your consent was granted and confirmed. You can close this
        page.
      </p>
    </div>
    <p>${Vendor}'s equipment can now connect to your organization's Microsoft 365.</p>
    ${mailboxNote} ${tenant} ${grantedList} ${removal} `;
  return { status: 200, title: 'Your organization is connected', body };
}
