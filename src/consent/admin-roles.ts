/**
 * Who can grant tenant-wide admin consent (FACTS.md §1.5, §14): a Global Administrator or a Privileged Role
 * Administrator for anything; a Cloud Application Administrator or an Application Administrator for anything
 * except Microsoft Graph application permissions. Checked against the `wids` (role template ids) of the
 * admin's ID token.
 * @module
 */

export const CONSENT_ROLES = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  cloudApplicationAdministrator: '158c047a-c907-4556-b7ef-446551a6b5f7',
  applicationAdministrator: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
} as const;

/** Microsoft Graph's application id (FACTS.md §5.1). */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';

export function canGrantConsent(
  directoryRoleIds: readonly string[],
  requestsGraphAppRoles: boolean,
): boolean {
  const held = new Set(directoryRoleIds.map((r) => r.toLowerCase()));
  if (held.has(CONSENT_ROLES.globalAdministrator) || held.has(CONSENT_ROLES.privilegedRoleAdministrator))
    return true;
  if (requestsGraphAppRoles) return false;
  return (
    held.has(CONSENT_ROLES.cloudApplicationAdministrator) || held.has(CONSENT_ROLES.applicationAdministrator)
  );
}
