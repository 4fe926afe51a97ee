/**
 * The support console's action forms and their result pages (issue 22): the forms of a tenant's page (run a
 * check, exchange-setup.ps1, and for Broker.Admin a consent link, an appliance, offboarding), the check's results
 * with the remediation and a copy button for its PowerShell, a secret shown once, a consent link, an offboarded
 * tenant, and a refused action in words. Every form posts the session's CSRF token.
 * @module
 */
import type { CheckReport } from '../../support/checks.js';
import type { TenantRecord } from '../../tenants/tenant-store.js';
import { CONSOLE_SCRIPT_PATH } from './console-script.js';
import type { ConsoleFrame } from './console-pages.js';
import type { Page } from './document.js';
import { html, joinHtml, type SafeHtml } from './html.js';

const csrf = (f: ConsoleFrame) => html`<input type="hidden" name="csrf" value="${f.csrfToken}" />`;
const back = (tenantId: string) => html`<p><a href="/console/tenants/${tenantId}">Back to the tenant</a></p>`;

/** The actions section of a tenant's page; the Broker.Admin ones only for Broker.Admin. */
export function tenantActions(frame: ConsoleFrame, tenant: TenantRecord): SafeHtml {
  const id = tenant.tenantId;
  const admin = frame.roles.includes('Broker.Admin');
  const adminForms = html`<h3>Create a consent link</h3>
    <form method="post" action="/console/tenants/${id}/onboardings">
      ${csrf(frame)}
      <label for="link-ref">Customer reference</label>
      <input
        id="link-ref"
        name="customerRef"
        value="${tenant.customerRefs[0] ?? ''}"
        required
        maxlength="128"
      />
      <p class="note">For the tenant's profiles: ${tenant.profiles.join(', ') || 'the default ones'}.</p>
      <button type="submit" class="button small">Create consent link</button>
    </form>
    <h3>Register an appliance</h3>
    <form method="post" action="/console/tenants/${id}/appliances">
      ${csrf(frame)}
      <label for="app-ref">Customer reference</label>
      <input
        id="app-ref"
        name="customerRef"
        value="${tenant.customerRefs[0] ?? ''}"
        required
        maxlength="128"
      />
      <fieldset>
        <legend>Profiles</legend>
        ${joinHtml(
          tenant.profiles.map(
            (p, i) =>
              html`<label
                ><input type="checkbox" name="profile:${p}" value="on" ${i === 0 ? html` checked` : ''} />
                ${p}</label
              >`,
          ),
        )}
      </fieldset>
      <p class="note">It gets a client secret, shown once.</p>
      <button type="submit" class="button small">Register appliance</button>
    </form>
    <h3>Offboard</h3>
    <form method="post" action="/console/tenants/${id}/offboard">
      ${csrf(frame)}
      <p>
        Revokes every appliance of ${tenant.displayName ?? id}, deletes the secrets held for it and keeps it
        as an offboarded record. It can be onboarded again later.
      </p>
      <label for="confirm">Type the tenant id <code>${id}</code> to confirm</label>
      <input id="confirm" name="confirm" required maxlength="36" autocomplete="off" />
      <button type="submit" class="button small danger">Offboard ${tenant.displayName ?? id}</button>
    </form>`;
  return html`<h2>Actions</h2>
    <h3>Run a check</h3>
    <form method="post" action="/console/tenants/${id}/check">
      ${csrf(frame)}
      <label for="check-mailboxes">Mailboxes to probe (optional, one per line or comma-separated)</label>
      <textarea id="check-mailboxes" name="mailboxes" rows="2" maxlength="4000"></textarea>
      <fieldset>
        <legend>
          Log in to the first three mailboxes as the PBX would (none ticked: the tenant's profiles' protocols)
        </legend>
        ${joinHtml(
          (['imap', 'pop', 'smtp', 'ews'] as const).map(
            (p) =>
              html`<label
                ><input type="checkbox" name="protocol:${p}" value="on" /> ${p.toUpperCase()}</label
              >`,
          ),
        )}
      </fieldset>
      <button type="submit" class="button small">Run check</button>
    </form>
    <h3>Exchange Online setup script</h3>
    <form method="get" action="/console/tenants/${id}/exchange-setup.ps1">
      <label for="ps-mailboxes">Mailboxes the appliance may use (comma-separated)</label>
      <input id="ps-mailboxes" name="mailboxes" maxlength="4000" />
      <button type="submit" class="button small">Download exchange-setup.ps1</button>
    </form>
    ${admin ? adminForms : html`<p class="note">Changes need the Broker.Admin role.</p>`}`;
}

/** The row actions of an appliance (Broker.Admin): rotate its secret, revoke it. */
export function applianceActions(
  frame: ConsoleFrame,
  appliance: { readonly clientId: string; readonly status: string; readonly authMethod: string },
): SafeHtml {
  if (!frame.roles.includes('Broker.Admin') || appliance.status !== 'active') return html``;
  const id = appliance.clientId;
  return html`${
      appliance.authMethod === 'client_secret'
        ? html`<form method="post" action="/console/appliances/${id}/secret" class="inline">
            ${csrf(frame)}<button type="submit" class="link-button">Rotate secret</button>
          </form>`
        : ''
    }
    <form method="post" action="/console/appliances/${id}/revoke" class="inline">
      ${csrf(frame)}<button type="submit" class="link-button">Revoke</button>
    </form>`;
}

export function checkResultPage(tenant: TenantRecord, report: CheckReport): Page {
  const mark = (ok: boolean | null) => (ok === true ? 'OK' : ok === false ? 'Problem' : 'Not checked');
  const items = joinHtml(
    report.checks.map(
      (c, i) =>
        html`<li
          class="check ${c.ok === false ? 'status-error' : c.ok === true ? 'status-ok' : 'status-wait'}"
        >
          <p><span class="status-label">${mark(c.ok)}</span> <code>${c.name}</code>: ${c.detail}</p>
          ${
            c.remediation
              ? html`<p>What to do:</p>
                  <pre id="remediation-${i}">${c.remediation}</pre>
                  <button type="button" class="button small" data-copy="remediation-${i}">Copy</button>`
              : ''
          }
        </li>`,
    ),
  );
  return {
    status: 200,
    wide: true,
    script: CONSOLE_SCRIPT_PATH,
    title: `Check of ${tenant.displayName ?? tenant.tenantId}`,
    body: html`<p>Checked at ${report.checkedAt}; the tenant is now <strong>${report.status}</strong>.</p>
      <ul class="checks">
        ${items}
      </ul>
      ${back(tenant.tenantId)}`,
  };
}

/** A secret shown once: the new appliance's, or the rotated one's. */
export function secretOncePage(input: {
  readonly title: string;
  readonly tenantId: string | null;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly note?: string;
}): Page {
  return {
    status: 200,
    script: CONSOLE_SCRIPT_PATH,
    title: input.title,
    body: html`<dl class="facts">
        <dt>Client id</dt>
        <dd><code>${input.clientId}</code></dd>
        <dt>Client secret</dt>
        <dd><code id="secret">${input.clientSecret}</code></dd>
      </dl>
      <p><button type="button" class="button small" data-copy="secret">Copy the secret</button></p>
      <p class="status status-wait">
        This is the only time the secret is shown: the broker keeps only a verifier of it. Put it into the PBX
        now.
      </p>
      ${input.note ? html`<p>${input.note}</p>` : ''}
      ${input.tenantId ? back(input.tenantId) : html`<p><a href="/console">Back to the console</a></p>`}`,
    headers: { 'cache-control': 'no-store' },
  };
}

export function consentLinkPage(tenant: TenantRecord, consentUrl: string, expiresAt: string): Page {
  return {
    status: 200,
    script: CONSOLE_SCRIPT_PATH,
    title: 'Consent link created',
    body: html`<p>Send this link to an administrator of ${tenant.displayName ?? tenant.tenantId}:</p>
      <p><code id="link">${consentUrl}</code></p>
      <p><button type="button" class="button small" data-copy="link">Copy the link</button></p>
      <p class="note">It can be used once, until ${expiresAt}.</p>
      ${back(tenant.tenantId)}`,
  };
}

export function offboardedPage(tenant: TenantRecord): Page {
  return {
    status: 200,
    title: 'Tenant offboarded',
    body: html`<p>
        ${tenant.displayName ?? tenant.tenantId} is offboarded: its appliances are revoked and the secrets
        held for it deleted. The record stays, as <strong>offboarded</strong>.
      </p>
      ${back(tenant.tenantId)}`,
  };
}

/** An action refused for a reason in its input or in the tenant's state: nothing was changed. */
export function actionRefusedPage(status: number, message: string, tenantId: string | null): Page {
  return {
    status,
    title: 'Nothing was changed',
    body: html`<p class="status status-error" role="alert">${message}</p>
      ${tenantId ? back(tenantId) : html`<p><a href="/console">Back to the console</a></p>`}`,
  };
}
