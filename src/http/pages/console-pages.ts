/**
 * The support console's pages (issue 22), server-rendered like the consent pages: plain data in, a Page out, no
 * script at all (the document's CSP allows none), every value escaped by `html`. Each signed-in page has the same
 * header (`frame`): where one is (Overview, Tenants, Webhooks), who is signed in with which role, and a sign-out
 * form carrying the session's CSRF token. No secret or token is ever part of a page. A tenant's page is
 * console-tenant-page.ts, the webhooks page console-webhooks-page.ts, the actions console-action-pages.ts.
 * @module
 */
import type { MailboxGrant } from '../../grants/grant-store.js';
import type { TenantRecord, TenantStatus } from '../../tenants/tenant-store.js';
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

export const statusClass = (s: TenantStatus) =>
  s === 'active' ? 'status-ok' : s === 'pending_verification' ? 'status-wait' : 'status-error';

export function frame(
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

export const when = (iso: string | null | undefined) =>
  iso
    ? html`<time datetime="${iso}"
        >${iso
          .replace('T', ' ')
          .replace(/\.\d+Z$/, ' UTC')
          .replace(/Z$/, ' UTC')}</time
      >`
    : html`never`;

export const tenantLink = (t: Pick<TenantRecord, 'tenantId' | 'displayName'>) =>
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
