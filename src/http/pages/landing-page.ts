/**
 * The consent landing page, `GET /connect/{code}` (SPEC.md "Customers"): who asks, for which customer,
 * what will be granted in plain words, who in the tenant can approve it, and the way on to Microsoft.
 * @module
 */
import type { BrokerRole, Profile, Resource } from '../../profiles/profiles.js';
import { approverRolesFor, GRAPH_APP_ID } from '../../consent/admin-roles.js';
import type { Page } from './document.js';
import { html, safeHref } from './html.js';

export interface LandingPageInput {
  readonly vendorName: string;
  /** The vendor's own customer or site id the onboarding is bound to. */
  readonly customerRef: string;
  /** The profiles the onboarding asks for. */
  readonly profiles: readonly Profile[];
  /** Roles the broker itself needs in every tenant (Profiles.brokerRoles). */
  readonly brokerRoles: readonly BrokerRole[];
  /** `/connect/{code}/go`, absolute or as a path on this site. */
  readonly goUrl: string;
  readonly expiresAt: Date;
}

interface RequestedRole {
  readonly value: string;
  readonly description: string;
}

export function landingPage(input: LandingPageInput): Page {
  const { vendorName } = input;
  const byResource = requestedByResource(input);
  const approvers = approverRolesFor(byResource.keys());
  const graphRequested = byResource.has(GRAPH_APP_ID);
  const titles = [...new Set(input.profiles.map((p) => p.title))];

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
        ? html`<p>${vendorName}'s equipment will be able to:</p>
            <ul>
              ${titles.map((t) => html`<li>${t}</li>`)}
            </ul>`
        : ''
    }
    <p>
      For this, Microsoft will ask you to grant ${vendorName}'s app these application permissions. They are
      granted for your whole organization, not for one person.
    </p>
    ${[...byResource.values()].map(
      ({ resource, roles }) =>
        html`<h3>${resource.displayName}</h3>
          <ul>
            ${roles.map((r) => html`<li>${r.description} <code>${r.value}</code></li>`)}
          </ul> `,
    )}
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
      <li>Microsoft asks you to sign in and shows the permissions listed above.</li>
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

/** Requested roles grouped by resource (keyed by its app id), each role once, in the order first asked. */
function requestedByResource(
  input: LandingPageInput,
): Map<string, { resource: Resource; roles: RequestedRole[] }> {
  const groups = new Map<string, { resource: Resource; roles: RequestedRole[]; ids: Set<string> }>();
  const add = (resource: Resource, role: { id: string; value: string; description: string }) => {
    const key = resource.appId.toLowerCase();
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { resource, roles: [], ids: new Set() }));
    if (group.ids.has(role.id)) return;
    group.ids.add(role.id);
    group.roles.push({ value: role.value, description: role.description });
  };
  for (const profile of input.profiles) for (const role of profile.roles) add(profile.resource, role);
  for (const role of input.brokerRoles) add(role.resource, role);
  return new Map([...groups].map(([key, { resource, roles }]) => [key, { resource, roles }]));
}

const timeFormat = new Intl.DateTimeFormat('en-GB', {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: 'UTC',
});

function formatTime(at: Date) {
  return html`<time datetime="${at.toISOString()}">${timeFormat.format(at)} UTC</time>`;
}
