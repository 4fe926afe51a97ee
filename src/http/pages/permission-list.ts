/**
 * The permission lists of the landing and result pages: the application permissions grouped by resource, each
 * in plain words with its technical name, and marked with who uses it, in text so that it does not depend on
 * colour (WCAG 2.2 1.4.1); and the sign-in permissions of the admin's own account.
 * @module
 */
import type { DelegatedScope, PermissionGroup, PermissionUse } from '../../profiles/registration.js';
import { html, type SafeHtml } from './html.js';

const USE_LABEL: Record<PermissionUse, string> = {
  equipment: 'Used by your equipment',
  service: 'Used by this service',
  unused: 'Not used by your equipment',
};

/** The label a permission carries on the pages. */
export function useLabel(use: PermissionUse): string {
  return USE_LABEL[use];
}

function mark(use: PermissionUse): SafeHtml {
  return use === 'equipment'
    ? html`<strong class="use-equipment">${USE_LABEL[use]}</strong>`
    : html`<span class="use-${use}">${USE_LABEL[use]}</span>`;
}

/** One `h3` per resource and a list of its permissions; empty groups are left out. */
export function permissionGroups(groups: readonly PermissionGroup[]): SafeHtml {
  return html`${groups
    .filter((g) => g.permissions.length > 0)
    .map(
      (g) =>
        html`<h3>${g.resourceName}</h3>
          <ul class="permissions">
            ${g.permissions.map(
              (p) =>
                html`<li>
                  ${p.description ? html`${p.description} ` : ''}<code>${p.value}</code> — ${mark(p.use)}
                </li>`,
            )}
          </ul> `,
    )}`;
}

/** The delegated scopes of the admin's sign-in: for the admin's own account, once. */
export function signInScopeList(scopes: readonly DelegatedScope[]): SafeHtml {
  return html`<ul class="permissions">
    ${scopes.map((s) => html`<li>${s.description} <code>${s.value}</code></li>`)}
  </ul>`;
}
