/**
 * The consent landing page, `GET /connect/{code}` (SPEC.md "Customers"): who asks, for which customer,
 * what will be granted in plain words, who in the tenant can approve it, and the way on to Microsoft. What will be
 * granted is the whole home app registration, since the consent asks for `/.default` (FACTS.md §1.1), with the
 * permissions this onboarding's profiles use marked as such (SPEC.md "Customers").
 * @module
 */
import type { Profile } from '../../profiles/profiles.js';
import type { DelegatedScope, PermissionGroup } from '../../profiles/registration.js';
import { approverRolesFor, GRAPH_APP_ID } from '../../consent/admin-roles.js';
import type { Page } from './document.js';
import { html, safeHref } from './html.js';
import { permissionGroups, signInScopeList } from './permission-list.js';

export interface LandingPageInput {
  readonly vendorName: string;
  /** The vendor's own customer or site id the onboarding is bound to. */
  readonly customerRef: string;
  /** The profiles the onboarding asks for. */
  readonly profiles: readonly Profile[];
  /**
   * Every application permission of the home app's registration, marked with how this onboarding uses it
   * (src/profiles/registration.ts `registrationForOnboarding`): `/.default` grants them all (FACTS.md §1.1).
   */
  readonly permissions: readonly PermissionGroup[];
  /**
   * With more than one, the bundle apps the admin approves one after another (src/profiles/profiles.ts
   * `Bundle`), each with its own registration's permissions; `permissions` is then all of them.
   */
  readonly apps?: readonly { readonly title: string; readonly permissions: readonly PermissionGroup[] }[];
  /** The registration's delegated scopes of the admin's sign-in (`HomeAppRegistration.signInScopes`). */
  readonly signInScopes: readonly DelegatedScope[];
  /** `/connect/{code}/go`, absolute or as a path on this site. */
  readonly goUrl: string;
  readonly expiresAt: Date;
}

export function landingPage(input: LandingPageInput): Page {
  const { vendorName } = input;
  const groups = input.permissions.filter((g) => g.permissions.length > 0);
  // Who can approve follows what Microsoft will ask for: every resource of the registration, not only the
  // onboarding's (FACTS.md §1.5).
  const resourceAppIds = groups.flatMap((g) => (g.resourceAppId ? [g.resourceAppId] : []));
  const approvers = approverRolesFor(resourceAppIds);
  const graphRequested = resourceAppIds.some((id) => id.toLowerCase() === GRAPH_APP_ID);
  const titles = [...new Set(input.profiles.map((p) => p.title))];
  const ending = input.profiles.filter((p) => p.deprecated !== undefined);
  const unused = groups.some((g) => g.permissions.some((p) => p.use === 'unused'));
  const apps = input.apps ?? [];
  const several = apps.length > 1;

  const body = html`<p class="lead">
      ${vendorName} asks you to connect its equipment to your organization's Microsoft 365. An administrator
      of your organization approves this once, at Microsoft.
    </p>
    <dl class="facts">
      <dt>Vendor</dt>
      <dd>${vendorName}</dd>
      <dt>Customer reference</dt>
      <dd>${input.customerRef}</dd>
      <dt>Link valid until</dt>
      <dd>${formatTime(input.expiresAt)}</dd>
    </dl>
    <h2>What you are asked to approve</h2>
    ${
      titles.length > 0
        ? html`<p>${vendorName}'s equipment for this customer reference will be able to:</p>
            <ul>
              ${titles.map((t) => html`<li>${t}</li>`)}
            </ul>`
        : ''
    }
    ${ending.map(
      (p) =>
        html`<p class="note">
          ${p.title} ends on ${p.deprecated!.endsOn}: ${p.deprecated!.reason}
          ${
            p.deprecated!.replacedBy.length
              ? html`${vendorName} can do the same with:
                ${p.deprecated!.replacedBy.map((n) => input.profiles.find((q) => q.name === n)?.title ?? n).join('; ')}.`
              : ''
          }
        </p>`,
    )}
    <p>
      ${
        several
          ? html`For this, Microsoft will ask you to approve ${apps.length} apps of ${vendorName}, one after
            another, each with the application permissions listed under it.`
          : html`For this, Microsoft will ask you to grant ${vendorName}'s app all of the application
            permissions below.`
      }
      They are granted for your whole organization, not for one person.
      ${
        unused
          ? html`Microsoft grants every permission of the app at once, so the list also holds permissions that
            your equipment does not use; the ones marked "Used by your equipment" are the ones it is set up
            for.`
          : ''
      }
    </p>
    ${
      several
        ? apps.map(
            (app, i) =>
              html`<h3>App ${i + 1} of ${apps.length}: ${app.title}</h3>
                ${permissionGroups(app.permissions.filter((g) => g.permissions.length > 0))}`,
          )
        : permissionGroups(groups)
    }
    ${
      input.signInScopes.length > 0
        ? html`<h3>Your sign-in</h3>
            <p>
              Microsoft also asks you to let this service sign you in and read your basic profile, once, to
              confirm who consented. This is for your own account only:
            </p>
            ${signInScopeList(input.signInScopes)}`
        : ''
    }
    <h2>Who can approve</h2>
    <p>
      Sign in at Microsoft with an account of your organization that holds one of these administrator roles:
    </p>
    <ul>
      ${approvers.map((r) => html`<li>${r.name}</li>`)}
    </ul>
    ${
      graphRequested
        ? html`<p class="note">
            A Cloud Application Administrator or an Application Administrator cannot approve this request,
            because it includes Microsoft Graph application permissions.
          </p>`
        : ''
    }
    <p>
      If you do not hold one of these roles, send this page's link to someone in your organization who does.
    </p>
    <p class="actions"><a class="button" href="${safeHref(input.goUrl)}">Continue to Microsoft</a></p>
    <h2>What happens next</h2>
    <ol>
      <li>
        Microsoft asks you to sign in and shows the permissions listed
        above${several ? html`, one app at a time (${apps.length} approvals)` : ''}.
      </li>
      <li>After you accept, you come back to this site, which confirms what was granted.</li>
    </ol>
    <h2>Good to know</h2>
    <ul>
      <li>
        Nothing is installed in your organization, and no password is shared with ${vendorName}. Its equipment
        gets short-lived access tokens from this service instead.
      </li>
      <li>
        You can remove this access at any time in the Microsoft Entra admin center, under Enterprise
        applications.
      </li>
    </ul> `;
  return { status: 200, title: `Connect ${vendorName} to Microsoft 365`, body };
}

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: 'UTC',
});

function formatTime(at: Date) {
  return html`<time datetime="${at.toISOString()}">${timeFormat.format(at)} UTC</time>`;
}
