/**
 * The page the consent callback ends on (SPEC.md "Customers"): what was granted, what is missing and how to
 * fix it, or that a consent Entra accepted is still being confirmed. That last case is directory
 * replication (FACTS.md §3: AADSTS700016 / 7000229 right after consent); the broker re-checks by itself,
 * so the page never asks the admin to wait and retry.
 * @module
 */
import { GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR } from '../../consent/admin-roles.js';
import type { DelegatedScope, PermissionGroup } from '../../profiles/registration.js';
import type { Page } from './document.js';
import { html, safeHref } from './html.js';
import { permissionGroups, signInScopeList } from './permission-list.js';

export type ConsentOutcome = 'granted' | 'verifying' | 'incomplete';

export interface ConsentResultInput {
  readonly outcome: ConsentOutcome;
  /** Named in the text when given; "the vendor" otherwise. */
  readonly vendorName?: string;
  readonly tenantName?: string | null;
  readonly tenantId: string;
  readonly verifiedDomains?: readonly string[];
  /**
   * App roles proven granted, by resource, in plain words and marked with how this onboarding uses them
   * (src/profiles/registration.ts `grantedForOnboarding`): the consent granted the whole registration.
   */
  readonly granted: readonly PermissionGroup[];
  /** The delegated scopes of the admin's sign-in, which the consent granted too; listed when given. */
  readonly signInScopes?: readonly DelegatedScope[];
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
  const granted = input.granted.filter((g) => g.permissions.length > 0);

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

  const signIn = input.signInScopes ?? [];
  const grantedList =
    granted.length > 0
      ? html`<h2>Granted permissions</h2>
          <p>
            Your organization granted ${vendor}'s app these application permissions. The ones marked "Used by
            your equipment" are the ones ${vendor}'s equipment for this customer reference is set up for.
          </p>
          ${permissionGroups(granted)}
          ${
            signIn.length > 0
              ? html`<h3>Your sign-in</h3>
                  <p>
                    You also let this service sign you in and read your basic profile, once, to confirm who
                    consented:
                  </p>
                  ${signInScopeList(signIn)}`
              : ''
          }`
      : '';

  // Only what this onboarding's equipment uses: the other mail protocols are granted with the registration.
  const mailboxNote = granted.some((g) =>
    g.permissions.some((p) => p.use === 'equipment' && /^(IMAP|POP|SMTP)\./i.test(p.value)),
  )
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
