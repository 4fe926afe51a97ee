/**
 * The sandbox's simulated cloud as a newcomer meets it: the vendor's tenant with the home app, the broker's
 * own workload identity (standing in for its managed identity) and two support staff, and two customer
 * tenants with admins, ordinary members, a guest and mailboxes. Ids are fixed so that data kept in
 * `.data/` across restarts still refers to the same tenants.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { World } from './common/world.js';
import { seedVaultKey } from './keyvault/keys.js';
import { BROKER_KEY_PERMISSIONS } from './keyvault/vault-state.js';
import { DIRECTORY_ROLES, EXCHANGE_APP_ID, GRAPH_APP_ID } from './common/well-known.js';

export const SANDBOX_IDS = {
  vendorTenantId: '5f3c7a1e-0b6d-4c2e-9a41-7d8e2f1b6c30',
  homeAppId: '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250',
  brokerIdentityAppId: '8c1d2e3f-4a5b-4c6d-8e7f-90a1b2c3d4e5',
  contosoTenantId: 'c0a7f5d2-1e4b-4a8c-9d3e-6f2b7a1c8e90',
  fabrikamTenantId: 'f4b1e8c3-2d7a-4e5f-8a9b-0c1d2e3f4a5b',
} as const;

/** The home app's delegated Microsoft Graph scopes (infra/app/home-app.bicep, `type: 'Scope'`). */
export const HOME_APP_DELEGATED_SCOPES = ['openid', 'profile', 'offline_access'] as const;

/** The delegated profiles' scopes on Microsoft Graph (infra/app/home-app.bicep, `type: 'Scope'`). */
export const PROFILE_DELEGATED_SCOPES = [
  'IMAP.AccessAsUser.All',
  'POP.AccessAsUser.All',
  'SMTP.Send',
  'EWS.AccessAsUser.All',
  'Mail.Send',
  'Calendars.ReadWrite',
  'Contacts.ReadWrite',
  'People.Read',
] as const;

/**
 * The home app's redirect URIs as infra/app/home-app.bicep registers them: the admin-consent callback, the
 * admin's sign-in, a mailbox user's sign-in and the support console's (test/profiles/registration.test.ts
 * compares them).
 */
const sandboxRedirectUris = (publicUrl: string): string[] => [
  `${publicUrl}/consent/callback`,
  `${publicUrl}/consent/signin`,
  `${publicUrl}/mailbox-grants/callback`,
  `${publicUrl}/console/callback`,
];

/** The broker's key for mailbox grants (src/grants/custody.ts GRANTS_KEY_NAME; infra/app/keyvault.bicep). */
export const GRANTS_KEY_NAME = 'mailbox-grants';

/** The home app's API roles (SPEC.md: vendor support). */
export const BROKER_ROLES = [
  { id: '0b8e1f9c-3c1a-4d6e-9f2a-51c7e8d3b401', value: 'Broker.Read' },
  { id: '6d2f4a7b-8e9c-4b1d-a3f5-72e6c9d0b802', value: 'Broker.Admin' },
] as const;

export interface SandboxIdentities {
  readonly vendorTenantId: string;
  readonly homeApp: { readonly clientId: string; readonly clientSecret: string };
  /** The broker's own identity towards Key Vault (a managed identity in Azure). */
  readonly brokerIdentity: {
    readonly tenantId: string;
    readonly clientId: string;
    readonly clientSecret: string;
  };
  readonly staff: { readonly admin: string; readonly reader: string };
  readonly customers: { readonly contoso: string; readonly fabrikam: string };
}

export function seedSandbox(world: World, options: { publicUrl: string }): SandboxIdentities {
  const vendor = world.addTenant({
    id: SANDBOX_IDS.vendorTenantId,
    displayName: 'Northwind Telephony (vendor)',
    domains: ['northwind-telephony.example'],
  });
  const homeApp = world.addApp({
    appId: SANDBOX_IDS.homeAppId,
    displayName: 'Northwind PBX Connector',
    homeTenantId: vendor.id,
    multitenant: true,
    redirectUris: sandboxRedirectUris(options.publicUrl),
    identifierUris: [`api://${SANDBOX_IDS.homeAppId}`],
    appRoles: BROKER_ROLES.map((r) => ({ ...r })),
    // The broker reads the consenting admin's directory roles from `wids` and guest status from `acct` (FACTS.md §14).
    groupMembershipClaims: 'DirectoryRole',
    idTokenOptionalClaims: ['acct'],
    requiredRoles: {
      [EXCHANGE_APP_ID]: ['IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp', 'full_access_as_app'],
      [GRAPH_APP_ID]: [
        'Mail.ReadWrite',
        'Mail.Send',
        'Calendars.ReadWrite',
        'Contacts.ReadWrite',
        'User.Read.All',
        'Contacts.Read',
        'OrgContact.Read.All',
        'Presence.Read.All',
        'Organization.Read.All',
      ],
    },
    // The delegated scopes of the admin's sign-in, as infra/app/home-app.bicep lists them: MSAL always asks for
    // `openid profile offline_access`, and Entra answers a silent sign-in asking for a scope the admin's
    // consent did not cover with consent_required (AADSTS65001).
    // With the delegated profiles' scopes (src/profiles/default-profiles.json, all registered on Microsoft Graph).
    requiredScopes: { [GRAPH_APP_ID]: [...HOME_APP_DELEGATED_SCOPES, ...PROFILE_DELEGATED_SCOPES] },
  });
  const homeSecret = randomBytes(30).toString('base64url');
  world.addSecret(homeApp, homeSecret);

  const identity = world.addApp({
    appId: SANDBOX_IDS.brokerIdentityAppId,
    displayName: 'consent-broker (managed identity)',
    homeTenantId: vendor.id,
  });
  const identitySecret = randomBytes(30).toString('base64url');
  world.addSecret(identity, identitySecret);

  const admin = world.addUser(vendor, {
    userPrincipalName: 'support.lead@northwind-telephony.example',
    displayName: 'Support Lead',
  });
  admin.appRoles[homeApp.appId] = ['Broker.Admin', 'Broker.Read'];
  const reader = world.addUser(vendor, {
    userPrincipalName: 'support.agent@northwind-telephony.example',
    displayName: 'Support Agent',
  });
  reader.appRoles[homeApp.appId] = ['Broker.Read'];

  const contoso = world.addTenant({
    id: SANDBOX_IDS.contosoTenantId,
    displayName: 'Contoso Ltd',
    domains: ['contoso.example'],
  });
  world.addUser(contoso, {
    userPrincipalName: 'admin@contoso.example',
    displayName: 'Contoso Global Admin',
    directoryRoles: [DIRECTORY_ROLES.globalAdministrator],
  });
  world.addUser(contoso, {
    userPrincipalName: 'apps@contoso.example',
    displayName: 'Contoso Cloud App Admin',
    directoryRoles: [DIRECTORY_ROLES.cloudApplicationAdministrator],
  });
  world.addUser(contoso, {
    userPrincipalName: 'alice@contoso.example',
    displayName: 'Alice (no admin role)',
  });
  // A queue's mailbox with a user of its own, as Sinch Contact Pro's "OAuth User" signs in (README "Delegated
  // mailboxes").
  world.addUser(contoso, {
    userPrincipalName: 'queue@contoso.example',
    displayName: 'Contoso Service Queue',
  });
  world.addMailbox(contoso, 'reception@contoso.example');
  world.addMailbox(contoso, 'voicemail@contoso.example');
  world.addMailbox(contoso, 'ceo@contoso.example', [homeApp.appId]);

  const fabrikam = world.addTenant({
    id: SANDBOX_IDS.fabrikamTenantId,
    displayName: 'Fabrikam Inc',
    domains: ['fabrikam.example'],
  });
  world.addUser(fabrikam, {
    userPrincipalName: 'admin@fabrikam.example',
    displayName: 'Fabrikam Global Admin',
    directoryRoles: [DIRECTORY_ROLES.globalAdministrator],
  });
  world.addMailbox(fabrikam, 'frontdesk@fabrikam.example');
  // The RSA key that seals mailbox grants' refresh tokens, as infra/app/keyvault.bicep creates it.
  seedVaultKey(world, GRANTS_KEY_NAME);
  world.addUser(contoso, {
    userPrincipalName: 'admin_fabrikam.example#EXT#@contoso.example',
    displayName: 'Fabrikam admin (guest in Contoso)',
    guestFrom: fabrikam,
    directoryRoles: [],
  });

  return identitiesOf(world);
}

/**
 * The sandbox identities as they stand in `world` (seeded now, or restored from a snapshot): the newest
 * secret of each app. The home app's redirect URIs follow `publicUrl`, which may have changed since.
 */
export function sandboxIdentities(world: World, options: { publicUrl: string }): SandboxIdentities {
  const homeApp = world.apps.get(SANDBOX_IDS.homeAppId);
  if (homeApp) {
    homeApp.redirectUris = sandboxRedirectUris(options.publicUrl);
    // Worlds saved before the admin sign-in existed lack these manifest settings.
    homeApp.groupMembershipClaims ??= 'DirectoryRole';
    homeApp.idTokenOptionalClaims ??= ['acct'];
    // Worlds saved before delegated permissions were modelled, or before the delegated profiles: the
    // registration as infra/ declares it now. Tenants consented before then have no delegated grant of the new
    // scopes, so their admin's next sign-in (or a user's) asks once, interactively.
    const saved = homeApp.requiredScopes?.[GRAPH_APP_ID] ?? [];
    homeApp.requiredScopes = {
      ...homeApp.requiredScopes,
      [GRAPH_APP_ID]: [...new Set([...saved, ...HOME_APP_DELEGATED_SCOPES, ...PROFILE_DELEGATED_SCOPES])],
    };
  }
  // Worlds saved before keys were modelled: the grants' key, and the broker identity's key permissions (Key Vault
  // Crypto User in infra/).
  seedVaultKey(world, GRANTS_KEY_NAME);
  world.vault.accessPolicies = world.vault.accessPolicies.map((p) =>
    p.applicationId === SANDBOX_IDS.brokerIdentityAppId && !p.keyPermissions
      ? { ...p, keyPermissions: [...BROKER_KEY_PERMISSIONS] }
      : p,
  );
  return identitiesOf(world);
}

function identitiesOf(world: World): SandboxIdentities {
  const app = (appId: string) => {
    const found = world.apps.get(appId);
    const secret = found?.secrets.at(-1);
    if (!found || !secret)
      throw new Error(
        `the sandbox world has no app ${appId} with a secret: remove .data/sandbox to seed it anew`,
      );
    return { app: found, secret: secret.value };
  };
  const home = app(SANDBOX_IDS.homeAppId);
  const identity = app(SANDBOX_IDS.brokerIdentityAppId);
  const vendor = world.tenants.get(SANDBOX_IDS.vendorTenantId);
  const upn = (role: string) =>
    vendor?.users.find((u) => u.appRoles[SANDBOX_IDS.homeAppId]?.[0] === role)?.userPrincipalName ?? '';
  return {
    vendorTenantId: SANDBOX_IDS.vendorTenantId,
    homeApp: { clientId: home.app.appId, clientSecret: home.secret },
    brokerIdentity: {
      tenantId: SANDBOX_IDS.vendorTenantId,
      clientId: identity.app.appId,
      clientSecret: identity.secret,
    },
    staff: { admin: upn('Broker.Admin'), reader: upn('Broker.Read') },
    customers: { contoso: SANDBOX_IDS.contosoTenantId, fabrikam: SANDBOX_IDS.fabrikamTenantId },
  };
}
