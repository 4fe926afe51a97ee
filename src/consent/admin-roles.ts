/**
 * Who in a customer tenant can grant the tenant-wide admin consent that an onboarding asks for. It depends
 * on the resources requested: Microsoft Graph application permissions need a Global Administrator or a
 * Privileged Role Administrator; Exchange Online app roles can also be granted by a Cloud Application
 * Administrator or an Application Administrator (FACTS.md §1.5, E-GRANT).
 * @module
 */

import { GRAPH_APP_ID } from '../ids.js';

export { GRAPH_APP_ID };

export interface ApproverRole {
  /** The role's name as the Entra admin center shows it. */
  readonly name: string;
  /** The directory role template id, as in an ID token's `wids` claim (FACTS.md §14). */
  readonly templateId: string;
}

export const GLOBAL_ADMINISTRATOR: ApproverRole = {
  name: 'Global Administrator',
  templateId: '62e90394-69f5-4237-9190-012177145e10',
};
export const PRIVILEGED_ROLE_ADMINISTRATOR: ApproverRole = {
  name: 'Privileged Role Administrator',
  templateId: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
};
export const CLOUD_APPLICATION_ADMINISTRATOR: ApproverRole = {
  name: 'Cloud Application Administrator',
  templateId: '158c047a-c907-4556-b7ef-446551a6b5f7',
};
export const APPLICATION_ADMINISTRATOR: ApproverRole = {
  name: 'Application Administrator',
  templateId: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
};

/**
 * The built-in roles that can approve app roles of these resources (their application ids), strongest
 * first. Custom roles with a permission-grant policy may also be able to; the broker cannot know that.
 */
export function approverRolesFor(resourceAppIds: Iterable<string>): readonly ApproverRole[] {
  const graph = [...resourceAppIds].some((id) => id.toLowerCase() === GRAPH_APP_ID);
  // E-GRANT: Cloud Application / Application Administrators may grant anything except Graph app roles.
  return graph
    ? [GLOBAL_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR]
    : [
        GLOBAL_ADMINISTRATOR,
        PRIVILEGED_ROLE_ADMINISTRATOR,
        CLOUD_APPLICATION_ADMINISTRATOR,
        APPLICATION_ADMINISTRATOR,
      ];
}

/** Whether someone holding these directory roles (`wids`) can grant consent to app roles of these resources. */
export function canGrantConsent(
  directoryRoleIds: readonly string[],
  resourceAppIds: Iterable<string>,
): boolean {
  const held = new Set(directoryRoleIds.map((r) => r.toLowerCase()));
  return approverRolesFor(resourceAppIds).some((role) => held.has(role.templateId));
}
