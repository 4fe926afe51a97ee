/**
 * Microsoft's well-known application ids and app roles, as the simulators publish them.
 * Ids and sources: ../shared/FACTS.md §5.
 * @module
 */
import type { SimCloud } from './clouds.js';

export interface SimAppRole {
  readonly id: string;
  readonly value: string;
}

export interface SimResource {
  readonly appId: string;
  readonly displayName: string;
  /** App ID URIs a `.default` scope may name; the first is the `aud` of v1 tokens. */
  readonly identifierUris: readonly string[];
  readonly appRoles: readonly SimAppRole[];
}

export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
export const EXCHANGE_APP_ID = '00000002-0000-0ff1-ce00-000000000000';
/** Azure Key Vault's first-party app id; resource https://vault.azure.net (Key Vault access-policy docs). */
export const KEY_VAULT_APP_ID = 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093';

export const GRAPH: SimResource = {
  appId: GRAPH_APP_ID,
  displayName: 'Microsoft Graph',
  identifierUris: ['https://graph.microsoft.com', 'https://graph.microsoft.com/'],
  appRoles: [
    { id: '810c84a8-4a9e-49e6-bf7d-12d183f40d01', value: 'Mail.Read' },
    { id: 'e2a3a72e-5f79-4c64-b1b1-878b674786c9', value: 'Mail.ReadWrite' },
    { id: 'b633e1c5-b582-4048-a93e-9f11b44c7e96', value: 'Mail.Send' },
    { id: 'ef54d2bf-783f-4e0f-bca1-3210c0444d99', value: 'Calendars.ReadWrite' },
    { id: '6918b873-d17a-4dc1-b314-35f528134491', value: 'Contacts.ReadWrite' },
    { id: 'df021288-bdef-4463-88db-98f22de89214', value: 'User.Read.All' },
    { id: '089fe4d0-434a-44c5-8827-41ba8a0b17f5', value: 'Contacts.Read' },
    { id: 'e1a88a34-94c4-4418-be12-c87b00e26bea', value: 'OrgContact.Read.All' },
    { id: 'a70e0c2d-e793-494c-94c4-118fa0a67f42', value: 'Presence.Read.All' },
    { id: '7ab1d382-f21e-4acd-a863-ba3e13f7da61', value: 'Directory.Read.All' },
    { id: '498476ce-e0fe-48b0-b801-37ba7e2685c6', value: 'Organization.Read.All' },
    { id: '9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30', value: 'Application.Read.All' },
  ],
};

export const EXCHANGE: SimResource = {
  appId: EXCHANGE_APP_ID,
  displayName: 'Office 365 Exchange Online',
  identifierUris: ['https://outlook.office365.com', 'https://outlook.office.com', 'https://ps.outlook.com'],
  appRoles: [
    { id: '5e5addcd-3e8d-4e90-baf5-964efab2b20a', value: 'IMAP.AccessAsApp' },
    { id: 'cb842b43-da6e-4506-86fe-bb12199c656d', value: 'POP.AccessAsApp' },
    { id: '7146a1f0-8703-45b3-9eae-527a64c00995', value: 'SMTP.SendAsApp' },
    { id: 'dc890d15-9560-4a4c-9b7f-a736ec74ec40', value: 'full_access_as_app' },
    { id: 'dc50a0fb-09a3-484d-be87-e023b12c6440', value: 'Exchange.ManageAsApp' },
  ],
};

export const KEY_VAULT: SimResource = {
  appId: KEY_VAULT_APP_ID,
  displayName: 'Azure Key Vault',
  identifierUris: ['https://vault.azure.net'],
  appRoles: [],
};

/** Directory role template ids that can grant tenant-wide admin consent (FACTS.md §14, §1.5). */
export const DIRECTORY_ROLES = {
  globalAdministrator: '62e90394-69f5-4237-9190-012177145e10',
  privilegedRoleAdministrator: 'e8611ab8-c189-46e8-94e1-60213ab1f814',
  cloudApplicationAdministrator: '158c047a-c907-4556-b7ef-446551a6b5f7',
  applicationAdministrator: '9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3',
} as const;

export const FIRST_PARTY_RESOURCES: readonly SimResource[] = [GRAPH, EXCHANGE, KEY_VAULT];

/**
 * Microsoft's resources as a cloud names them: the same app ids and roles everywhere (FACTS.md §15), each
 * cloud's own App ID URIs (simulators/common/clouds.ts).
 */
export function firstPartyResources(cloud: SimCloud): readonly SimResource[] {
  if (cloud.name === 'AzureCloud') return FIRST_PARTY_RESOURCES;
  const withSlash = (uris: readonly string[]) => uris.flatMap((u) => [u, `${u}/`]);
  return [
    { ...GRAPH, identifierUris: withSlash(cloud.graphUris) },
    { ...EXCHANGE, identifierUris: cloud.exchangeUris },
    { ...KEY_VAULT, identifierUris: [cloud.keyVaultResource] },
  ];
}
