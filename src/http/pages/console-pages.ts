/**
 * The support console's pages (issue 22), server-rendered like the consent pages: plain data in, a Page out, no
 * script at all (the document's CSP allows none), every value escaped by `html`. Each signed-in page has the same
 * header: where one is (Overview, Tenants), who is signed in with which role, and a sign-out form carrying the
 * session's CSRF token. No secret or token is ever part of a page.
 * @module
 */
import type { AuditEntry } from '../../audit/audit-log.js';
import type { Appliance } from '../../appliances/appliance-store.js';
import type { MailboxGrant } from '../../grants/grant-store.js';
import type { WebhookDelivery, WebhookEndpoint } from '../../webhooks/store.js';
import type { TenantRecord, TenantStatus } from '../../tenants/tenant-store.js';
import { applianceActions, tenantActions } from './console-action-pages.js';
import { barChart, type Bar } from './console-chart.js';
import type { Page } from './document.js';
import { html, joinHtml, type SafeHtml } from './html.js';

/** Who is signed in, and the token each state-changing form of the page carries. */
export interface ConsoleFrame {
  readonly displayName: string;
  readonly roles: readonly string[];
  readonly csrfToken: string;
}

/** Plain words for each tenant status, for support and for the customer they talk to. */
export const STATUS_WORDS: Readonly<Record<TenantStatus, string>> = {
  pending_verification: 'Consent given, being verified with Microsoft',
  active: 'Connected',
  degraded: 'Connected, with something missing',
  revoked: 'Consent removed in the tenant',
  error: 'Microsoft refuses the broker in this tenant',
  offboarded: 'Offboarded',
};

const statusClass = (s: TenantStatus) =>
  s === 'active' ? 'status-ok' : s === 'pending_verification' ? 'status-wait' : 'status-error';

function frame(
  f: ConsoleFrame,
  current: 'overview' | 'tenants' | 'tenant' | 'webhooks',
  body: SafeHtml,
): SafeHtml {
  const link = (href: string, label: string, on: boolean) =>
    html`<a href="${href}" ${on ? html` aria-current="page"` : ''}>${label}</a>`;
  return html`<nav class="console-nav" aria-label="Console">
      ${link('/console', 'Overview', current === 'overview')}
      ${link('/console/tenants', 'Tenants', current === 'tenants')}
      ${link('/console/webhooks', 'Webhooks', current === 'webhooks')}
      <span class="note">Signed in as ${f.displayName} (${f.roles.join(', ')})</span>
      <form method="post" action="/console/signout" class="inline">
        <input type="hidden" name="csrf" value="${f.csrfToken}" />
        <button type="submit" class="link-button">Sign out</button>
      </form>
    </nav>
    ${body}`;
}

const when = (iso: string | null | undefined) =>
  iso
    ? html`<time datetime="${iso}"
        >${iso
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ' UTC')
          .replace(/Z$/, ' UTC')}</time
      >`
    : html`never`;

const tenantLink = (t: Pick<TenantRecord, 'tenantId' | 'displayName'>) =>
  html`<a href="/console/tenants/${t.tenantId}">${t.displayName ?? t.tenantId}</a>`;

export interface OverviewInput {
  readonly frame: ConsoleFrame;
  readonly counts: Readonly<Record<TenantStatus, number>>;
  /** Tenants needing someone, newest change first. */
  readonly attention: readonly TenantRecord[];
  /** Appliances seen within the last hour and day, of `appliances` counted. */
  readonly appliancesSeen: { readonly hour: number; readonly day: number; readonly total: number };
  /** True when there were more tenants or appliances than one overview reads: the figures are of the first ones. */
  readonly partial: boolean;
  /** Tokens issued: the last 24 hours by hour, the last 7 days by day. */
  readonly tokens: { readonly day: readonly Bar[]; readonly week: readonly Bar[] };
  /** Credentials ending within 30 days (or ended), soonest first. */
  readonly credentials: readonly {
    readonly what: string;
    readonly endsOn: string;
    readonly tenantId?: string;
  }[];
  /** Mailbox grants whose user must sign in again. */
  readonly reauth: readonly { readonly tenant: TenantRecord; readonly grant: MailboxGrant }[];
}

export function consoleOverviewPage(input: OverviewInput): Page {
  const statuses = Object.keys(STATUS_WORDS) as TenantStatus[];
  const counts = joinHtml(
    statuses.map(
      (s) =>
        html`<tr>
          <th scope="row"><a href="/console/tenants?status=${s}">${STATUS_WORDS[s]}</a></th>
          <td>${input.counts[s] ?? 0}</td>
        </tr>`,
    ),
  );
  const attention = input.attention.length
    ? html`<ul class="attention">
        ${joinHtml(
          input.attention.map(
            (t) =>
              html`<li>
                ${tenantLink(t)} —
                ${STATUS_WORDS[t.status]}${
                  t.lastError ? html`: ${t.lastError.message} <code>${t.lastError.code}</code>` : ''
                }
                <span class="note">(${t.customerRefs.join(', ') || 'no customer reference'})</span>
              </li>`,
          ),
        )}
      </ul>`
    : html`<p>No tenant needs attention.</p>`;
  const seen = input.appliancesSeen;
  const credentials = input.credentials.length
    ? html`<ul>
        ${joinHtml(
          input.credentials.map(
            (c) =>
              html`<li>
                ${c.tenantId ? html`<a href="/console/tenants/${c.tenantId}">${c.what}</a>` : c.what}: ends
                ${when(c.endsOn)}
              </li>`,
          ),
        )}
      </ul>`
    : html`<p>No credential ends within 30 days.</p>`;
  const reauth = input.reauth.length
    ? html`<ul>
        ${joinHtml(
          input.reauth.map(
            ({ tenant, grant }) =>
              html`<li>
                ${tenantLink(tenant)}: the mailbox grant of
                ${grant.mailbox ?? grant.user?.userPrincipalName ?? 'a user'} needs the user to sign in
                again${grant.error ? html` (${grant.error.message})` : ''}
              </li>`,
          ),
        )}
      </ul>`
    : html`<p>No mailbox grant needs its user.</p>`;
  return {
    status: 200,
    wide: true,
    title: 'Support console',
    body: frame(
      input.frame,
      'overview',
      html`${
          input.partial
            ? html`<p class="note">
                Counted from the first tenants and appliances only: there are more than one overview reads.
              </p>`
            : ''
        }
        <h2>Tenants by status</h2>
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">
              Tenants by status
            </caption>
            <thead>
              <tr>
                <th scope="col">Status</th>
                <th scope="col">Tenants</th>
              </tr>
            </thead>
            <tbody>
              ${counts}
            </tbody>
          </table>
        </div>
        <h2>Needing attention</h2>
        ${attention}
        <h2>Mailbox grants needing a sign-in</h2>
        ${reauth}
        <h2>Credentials ending within 30 days</h2>
        ${credentials}
        <h2>Appliances</h2>
        <p>${seen.hour} seen in the last hour, ${seen.day} in the last day, of ${seen.total} registered.</p>
        <h2>Tokens issued</h2>
        ${barChart('tokens-day', 'Tokens issued per hour, last 24 hours (UTC)', input.tokens.day, 3)}
        ${barChart('tokens-week', 'Tokens issued per day, last 7 days (UTC)', input.tokens.week)}`,
    ),
  };
}

export interface TenantsInput {
  readonly frame: ConsoleFrame;
  readonly search: string;
  readonly status: TenantStatus | '';
  readonly profile: string;
  readonly profileNames: readonly string[];
  readonly items: readonly TenantRecord[];
  /** The next page's URL, when there is one. */
  readonly nextUrl?: string;
  /** What the search was read as, in words (e.g. "customer reference FAB-7731"). */
  readonly searchedFor?: string;
  /** A problem with the query, in words: nothing was searched. */
  readonly problem?: string;
}

export function consoleTenantsPage(input: TenantsInput): Page {
  const option = (value: string, label: string, selected: boolean) =>
    html`<option value="${value}" ${selected ? html` selected` : ''}>${label}</option>`;
  const rows = joinHtml(
    input.items.map(
      (t) =>
        html`<tr>
          <th scope="row">${tenantLink(t)}</th>
          <td><span class="badge ${statusClass(t.status)}">${STATUS_WORDS[t.status]}</span></td>
          <td>${t.customerRefs.join(', ')}</td>
          <td>${t.verifiedDomains.slice(0, 3).join(', ')}</td>
          <td>${when(t.lastTokenAt)}</td>
        </tr>`,
    ),
  );
  return {
    status: input.problem ? 400 : 200,
    wide: true,
    title: 'Tenants',
    body: frame(
      input.frame,
      'tenants',
      html`<form method="get" action="/console/tenants" class="search" role="search">
          <label for="q">Customer reference, domain or tenant id</label>
          <input id="q" name="q" type="search" value="${input.search}" maxlength="256" />
          <label for="status">Status</label>
          <select id="status" name="status">
            ${option('', 'Any', input.status === '')}
            ${joinHtml(
              (Object.keys(STATUS_WORDS) as TenantStatus[]).map((s) =>
                option(s, STATUS_WORDS[s], input.status === s),
              ),
            )}
          </select>
          <label for="profile">Profile</label>
          <select id="profile" name="profile">
            ${option('', 'Any', input.profile === '')}
            ${joinHtml(input.profileNames.map((p) => option(p, p, input.profile === p)))}
          </select>
          <button type="submit" class="button small">Search</button>
        </form>
        ${input.problem ? html`<p class="status status-error" role="alert">${input.problem}</p>` : ''}
        ${input.searchedFor ? html`<p>Tenants of ${input.searchedFor}:</p>` : ''}
        ${
          input.items.length
            ? html`<div class="table-wrap">
                <table>
                  <caption class="visually-hidden">
                    Tenants
                  </caption>
                  <thead>
                    <tr>
                      <th scope="col">Tenant</th>
                      <th scope="col">Status</th>
                      <th scope="col">Customer references</th>
                      <th scope="col">Domains</th>
                      <th scope="col">Last token</th>
                    </tr>
                  </thead>
                  <tbody>
                    ${rows}
                  </tbody>
                </table>
              </div>`
            : input.problem
              ? ''
              : html`<p>No tenant matches.</p>`
        }
        ${input.nextUrl ? html`<p><a href="${input.nextUrl}" rel="next">Next page</a></p>` : ''}`,
    ),
  };
}

export interface TenantInput {
  readonly frame: ConsoleFrame;
  readonly tenant: TenantRecord;
  readonly appliances: readonly Appliance[];
  readonly grants: readonly MailboxGrant[];
  /** The tenant's audit entries, newest first. */
  readonly audit: readonly AuditEntry[];
  /** With several bundles: what each bundle app was granted. */
  readonly bundles?: readonly {
    readonly bundle: string;
    readonly grantedRoles: Readonly<Record<string, readonly string[]>>;
  }[];
}

export function consoleTenantPage(input: TenantInput): Page {
  const t = input.tenant;
  const roles = Object.entries(t.grantedRoles);
  const missing = Object.entries(t.missingRoles);
  const facts = html`<dl class="facts">
    <dt>Tenant id</dt>
    <dd><code>${t.tenantId}</code></dd>
    <dt>Customer references</dt>
    <dd>${t.customerRefs.join(', ') || 'none'}</dd>
    <dt>Verified domains</dt>
    <dd>${t.verifiedDomains.join(', ') || 'none recorded'}</dd>
    <dt>Consented</dt>
    <dd>${when(t.consentedAt)}${t.consentedBy ? html` by ${t.consentedBy.displayName}` : ''}</dd>
    <dt>Profiles</dt>
    <dd>${t.profiles.join(', ') || 'none'}</dd>
    <dt>Last token</dt>
    <dd>${when(t.lastTokenAt)}</dd>
    <dt>App credential</dt>
    <dd>
      ${
        t.appCredential
          ? html`the tenant's own app <code>${t.appCredential.clientId}</code>, ends
              ${when(t.appCredential.expiresOn)}`
          : "the home app (the vendor's)"
      }
    </dd>
  </dl>`;
  const status = html`<div class="status ${statusClass(t.status)}">
    <p><span class="status-label">${STATUS_WORDS[t.status]}</span></p>
    ${
      t.lastError
        ? html`<p>${t.lastError.message} <code>${t.lastError.code}</code> (${when(t.lastError.at)})</p>
            ${t.lastError.remediation ? html`<p>What to do: ${t.lastError.remediation}</p>` : ''}`
        : ''
    }
    ${
      t.verification
        ? html`<p>
            Verification attempt ${t.verification.attempts + 1}, next at ${when(t.verification.nextCheckAt)}.
          </p>`
        : ''
    }
  </div>`;
  const granted = roles.length
    ? html`<ul>
        ${joinHtml(roles.map(([scope, values]) => html`<li><code>${scope}</code>: ${values.join(', ') || 'nothing'}</li>`))}
      </ul>`
    : html`<p>Nothing recorded.</p>`;
  const perBundle = input.bundles?.length
    ? html`<h3>Per bundle app</h3>
        <ul>
          ${joinHtml(
            input.bundles.map(
              (b) =>
                html`<li>
                  ${b.bundle}:
                  ${
                    Object.entries(b.grantedRoles)
                      .map(([scope, values]) => `${scope} ${values.join(', ') || 'nothing'}`)
                      .join('; ') || 'nothing'
                  }
                </li>`,
            ),
          )}
        </ul>`
    : '';
  const missingList = missing.length
    ? html`<ul>
        ${joinHtml(missing.map(([profile, values]) => html`<li>${profile}: ${values.join(', ')}</li>`))}
      </ul>`
    : html`<p>Nothing missing.</p>`;
  const appliances = input.appliances.length
    ? html`<div class="table-wrap">
        <table>
          <caption class="visually-hidden">
            Appliances
          </caption>
          <thead>
            <tr>
              <th scope="col">Client id</th>
              <th scope="col">Status</th>
              <th scope="col">Profiles</th>
              <th scope="col">Last seen</th>
              <th scope="col">Tokens</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            ${joinHtml(
              input.appliances.map(
                (a) =>
                  html`<tr>
                    <th scope="row"><code>${a.clientId}</code></th>
                    <td>${a.status}</td>
                    <td>${a.profiles.join(', ')}</td>
                    <td>${when(a.lastSeenAt)}</td>
                    <td>${a.tokenCount}</td>
                    <td>${applianceActions(input.frame, a)}</td>
                  </tr>`,
              ),
            )}
          </tbody>
        </table>
      </div>`
    : html`<p>No appliance.</p>`;
  const grants = input.grants.length
    ? html`<ul>
        ${joinHtml(
          input.grants.map(
            (g) =>
              html`<li>
                ${g.mailbox ?? g.user?.userPrincipalName ?? 'any user'} —
                ${g.status}${g.error ? html`: ${g.error.message}` : ''}
                <span class="note">(appliance <code>${g.applianceId}</code>, ${g.profiles.join(', ')})</span>
              </li>`,
          ),
        )}
      </ul>`
    : html`<p>No mailbox grant.</p>`;
  const audit = input.audit.length
    ? html`<ol class="timeline" reversed>
        ${joinHtml(
          input.audit.map(
            (e) =>
              html`<li>
                ${when(e.at)} <code>${e.action}</code> by
                ${e.actor.name ?? e.actor.id}${e.outcome !== 'success' ? html` (${e.outcome})` : ''}
              </li>`,
          ),
        )}
      </ol>`
    : html`<p>No audit record.</p>`;
  return {
    status: 200,
    wide: true,
    title: t.displayName ?? t.tenantId,
    body: frame(
      input.frame,
      'tenant',
      html`${status}${facts}
        <h2>Granted</h2>
        ${granted}${perBundle}
        <h2>Missing</h2>
        ${missingList}
        <h2>Appliances</h2>
        ${appliances}
        <h2>Mailbox grants</h2>
        ${grants}
        <h2>Audit timeline</h2>
        ${audit} ${t.status === 'offboarded' ? '' : tenantActions(input.frame, t)}`,
    ),
  };
}

/** Why the console refused, for its refusal page. */
export type ConsoleRefusalPage =
  'stateInvalid' | 'signInFailed' | 'otherTenant' | 'noRole' | 'needsAdmin' | 'csrf' | 'notFound';

const REFUSALS: Readonly<Record<ConsoleRefusalPage, { status: number; title: string; text: string }>> = {
  stateInvalid: {
    status: 400,
    title: 'Sign-in expired',
    text: 'This sign-in is unknown, expired, already used, or was started in another browser. Start again.',
  },
  signInFailed: {
    status: 400,
    title: 'Sign-in did not complete',
    text: 'Microsoft Entra ID did not sign you in. Start again; if it keeps failing, give your administrator the code below.',
  },
  otherTenant: {
    status: 403,
    title: 'Not a vendor account',
    text: "The support console is for the vendor's own staff: sign in with an account of the vendor's organization.",
  },
  noRole: {
    status: 403,
    title: 'No console role',
    text: 'Your account holds neither Broker.Read nor Broker.Admin on this service. Ask your administrator to assign one (Enterprise applications, Users and groups).',
  },
  needsAdmin: {
    status: 403,
    title: 'Broker.Admin needed',
    text: 'This action changes something and needs the Broker.Admin role; your account holds Broker.Read.',
  },
  csrf: {
    status: 403,
    title: 'Form expired',
    text: 'This form was not sent from a page of your current console session. Go back, reload the page and try again.',
  },
  notFound: { status: 404, title: 'Not found', text: 'There is no such tenant or page.' },
};

export function consoleRefusalPage(reason: ConsoleRefusalPage, code?: string): Page {
  const r = REFUSALS[reason];
  return {
    status: r.status,
    title: r.title,
    body: html`<p>${r.text}</p>
      ${code ? html`<p>Code for support: <code>${code}</code></p>` : ''}
      <p class="actions"><a class="button" href="/console/signin">Sign in to the console</a></p>`,
  };
}

export function consoleSignedOutPage(): Page {
  return {
    status: 200,
    title: 'Signed out',
    body: html`<p>You have left the support console. Your session has ended on every device.</p>
      <p class="actions"><a class="button" href="/console/signin">Sign in again</a></p>`,
  };
}

export interface WebhooksInput {
  readonly frame: ConsoleFrame;
  readonly endpoints: readonly {
    readonly endpoint: WebhookEndpoint;
    /** Newest first. */
    readonly deliveries: readonly WebhookDelivery[];
  }[];
}

/** The webhook endpoints, a disabled one shown as such, and each one's delivery log. */
export function consoleWebhooksPage(input: WebhooksInput): Page {
  const sections = input.endpoints.map(({ endpoint: e, deliveries }) => {
    const rows = joinHtml(
      deliveries.map(
        (d) =>
          html`<tr>
            <td>${when(d.createdAt)}</td>
            <td><code>${d.type}</code></td>
            <td>${d.status}</td>
            <td>${d.attempts}</td>
            <td>${d.lastStatus ?? ''} ${d.lastError ?? ''}</td>
          </tr>`,
      ),
    );
    return html`<section>
      <h2><code>${e.url}</code></h2>
      <p class="status ${e.status === 'active' ? 'status-ok' : 'status-error'}">
        <span class="status-label">${e.status === 'active' ? 'Active' : 'Disabled'}</span>
        ${
          e.status === 'disabled'
            ? html` since ${when(e.disabledAt)}: a delivery failed for a whole day
                (${e.lastError ?? 'no answer'}). Enable it with
                <code>POST /api/webhooks/${e.id}/enable</code> once the receiver works.`
            : ''
        }
      </p>
      <p>Events: ${e.events.join(', ')}. Registered ${when(e.createdAt)} by ${e.createdBy}.</p>
      ${
        deliveries.length
          ? html`<div class="table-wrap">
              <table>
                <caption class="visually-hidden">
                  Deliveries to ${e.url}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Event at</th>
                    <th scope="col">Type</th>
                    <th scope="col">Delivery</th>
                    <th scope="col">Attempts</th>
                    <th scope="col">Last answer</th>
                  </tr>
                </thead>
                <tbody>
                  ${rows}
                </tbody>
              </table>
            </div>`
          : html`<p>Nothing sent yet.</p>`
      }
    </section>`;
  });
  return {
    status: 200,
    wide: true,
    title: 'Webhooks',
    body: frame(
      input.frame,
      'webhooks',
      sections.length
        ? joinHtml(sections)
        : html`<p>No webhook endpoint. Register one with <code>POST /api/webhooks</code> (Broker.Admin).</p>`,
    ),
  };
}
