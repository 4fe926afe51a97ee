/**
 * The support console's page of one tenant (issue 22): its record in words, appliances, mailbox grants, audit
 * timeline and actions (src/http/pages/console-action-pages.ts).
 * @module
 */
import type { AuditEntry } from '../../audit/audit-log.js';
import type { Appliance } from '../../appliances/appliance-store.js';
import type { MailboxGrant } from '../../grants/grant-store.js';
import type { TenantRecord } from '../../tenants/tenant-store.js';
import { applianceActions, tenantActions } from './console-action-pages.js';
import { frame, STATUS_WORDS, statusClass, when, type ConsoleFrame } from './console-pages.js';
import type { Page } from './document.js';
import { html, joinHtml } from './html.js';

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
