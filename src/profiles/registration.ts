/**
 * The home app registration's permissions as the broker knows them, i.e. what a customer's admin really grants.
 * The admin-consent request names a `/.default` scope, and `/.default` consents to every permission the app
 * registration lists, whichever resource the scope names (FACTS.md §1.1), not only the permissions of the
 * onboarding's profiles. The broker's one source for that list is its profiles catalogue: every app role of every
 * application profile, every delegated scope of every delegated profile (so that the tenant's admin consent
 * covers them for every user: "admin consent … on behalf of all users",
 * https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent), plus the broker's own
 * `brokerRoles`, plus the delegated scopes of the admin's sign-in. The registration
 * is declared from the same catalogue (infra/app/home-app.bicep, checked by test/infra/home-app.test.ts; the
 * sandbox's in simulators/sandbox.ts, checked by test/profiles/registration.test.ts). A vendor with its own
 * profiles file lists the same permissions on its own registration.
 * @module
 */
import { createHash } from 'node:crypto';
import { GRAPH_APP_ID } from '../consent/admin-roles.js';
import type { AppRole, Bundle, Profile, Profiles, Resource } from './profiles.js';

/** A delegated permission (`type: 'Scope'`) of the registration. */
export interface DelegatedScope {
  readonly value: string;
  /** Microsoft Graph's permission id (microsoftgraph/microsoft-graph-docs-contrib:concepts/includes/permissions-ids.md). */
  readonly id: string;
  /** What it allows, in plain words for the consent pages. */
  readonly description: string;
}

/**
 * The delegated Microsoft Graph scopes of the admin's sign-in after consent (FACTS.md §14). @azure/msal-node
 * always asks for all three (src/adapters/entra/msal-sign-in.ts), so the registration lists all three, or Entra
 * answers the silent sign-in with consent_required (AADSTS65001). The refresh token that
 * `offline_access` brings is dropped from MSAL's cache at once.
 */
export const SIGN_IN_SCOPES: readonly DelegatedScope[] = Object.freeze([
  { value: 'openid', id: '37f7f235-527c-4136-accd-4a02d197296e', description: 'Sign you in' },
  {
    value: 'profile',
    id: '14dad69e-099b-42c9-810b-d002981feec1',
    description: 'Read your basic profile: your name and the id of your account',
  },
  {
    value: 'offline_access',
    id: '7427e0e9-2fba-42fe-b0c0-848c9e6a8182',
    description:
      'Keep that sign-in valid for later; this service discards it as soon as it knows who you are',
  },
]);

/** An application permission (app role) of the registration. */
export interface RegisteredRole extends AppRole {
  /** Names of the catalogue's profiles that need it, in catalogue order. */
  readonly profiles: readonly string[];
  /** Whether the broker needs it itself (`brokerRoles`). */
  readonly broker: boolean;
}

/** A delegated permission of a delegated profile, as the registration lists it. */
export interface RegisteredScope extends DelegatedScope {
  /** Names of the catalogue's profiles that need it, in catalogue order. */
  readonly profiles: readonly string[];
}

export interface HomeAppRegistration {
  /** Application permissions by resource, each role once (by id), in catalogue order. */
  readonly applicationPermissions: readonly {
    readonly resource: Resource;
    readonly roles: readonly RegisteredRole[];
  }[];
  /**
   * Delegated permissions of the delegated profiles, by the resource they are registered on (not always the
   * resource of their tokens: IMAP.AccessAsUser.All is Microsoft Graph's), each once (by id), in catalogue order.
   */
  readonly delegatedPermissions: readonly {
    readonly resource: Resource;
    readonly scopes: readonly RegisteredScope[];
  }[];
  /** Delegated permissions of the admin's sign-in, on `signInResourceAppId`. */
  readonly signInScopes: readonly DelegatedScope[];
  readonly signInResourceAppId: string;
}

/** The home app's registration: that of the first bundle (every profile, in a file without bundles). */
export function homeAppRegistration(catalogue: Profiles): HomeAppRegistration {
  return bundleRegistration(catalogue, catalogue.bundles[0]!);
}

/**
 * One bundle's app registration: the permissions of the bundle's profiles and the broker's own roles (every
 * bundle's app lists those, so that a customer who consents to one bundle only is still recognised: its name
 * and domains).
 */
export function bundleRegistration(catalogue: Profiles, bundle: Bundle): HomeAppRegistration {
  const groups = new Map<string, { resource: Resource; roles: Map<string, RegisteredRole> }>();
  const add = (resource: Resource, role: AppRole, use: { profile?: string; broker?: boolean }) => {
    const key = resource.appId.toLowerCase();
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { resource, roles: new Map() }));
    const known = group.roles.get(role.id);
    const profiles = known?.profiles ?? [];
    group.roles.set(role.id, {
      value: known?.value ?? role.value,
      id: role.id,
      description: known?.description ?? role.description,
      profiles: use.profile && !profiles.includes(use.profile) ? [...profiles, use.profile] : profiles,
      broker: (known?.broker ?? false) || use.broker === true,
    });
  };
  for (const profile of bundle.profiles)
    for (const role of profile.roles) add(profile.resource, role, { profile: profile.name });
  for (const role of catalogue.brokerRoles) add(role.resource, role, { broker: true });
  const delegated = new Map<string, { resource: Resource; scopes: Map<string, RegisteredScope> }>();
  for (const profile of bundle.profiles)
    for (const scope of profile.scopes) {
      const key = scope.registeredOn.appId.toLowerCase();
      let group = delegated.get(key);
      if (!group) delegated.set(key, (group = { resource: scope.registeredOn, scopes: new Map() }));
      const known = group.scopes.get(scope.id);
      group.scopes.set(scope.id, {
        value: known?.value ?? scope.value,
        id: scope.id,
        description: known?.description ?? scope.description,
        profiles: [...(known?.profiles ?? []), profile.name],
      });
    }
  return {
    applicationPermissions: [...groups.values()].map(({ resource, roles }) => ({
      resource,
      roles: [...roles.values()],
    })),
    delegatedPermissions: [...delegated.values()].map(({ resource, scopes }) => ({
      resource,
      scopes: [...scopes.values()],
    })),
    signInScopes: SIGN_IN_SCOPES,
    signInResourceAppId: GRAPH_APP_ID,
  };
}

/**
 * Who uses a permission, for the one onboarding the page is about: its equipment (a profile of the onboarding
 * needs it), this service (a broker role), or neither (granted with the registration, used by no profile of
 * this onboarding).
 */
export type PermissionUse = 'equipment' | 'service' | 'unused';

/** One application permission as the consent pages show it. */
export interface PermissionLine {
  readonly value: string;
  /** Plain words; undefined for a granted role the registration does not list. */
  readonly description: string | undefined;
  readonly use: PermissionUse;
}

/** The permissions of one resource, as the consent pages show them. */
export interface PermissionGroup {
  /** The resource's application id, or undefined for a resource the catalogue does not know. */
  readonly resourceAppId: string | undefined;
  readonly resourceName: string;
  readonly permissions: readonly PermissionLine[];
}

const useOf = (role: RegisteredRole, used: ReadonlySet<string>): PermissionUse =>
  role.profiles.some((p) => used.has(p)) ? 'equipment' : role.broker ? 'service' : 'unused';

/**
 * Every permission of the registration, marked with how this onboarding's profiles use it: the application
 * permissions by resource, then the delegated ones ({@link delegatedForOnboarding}).
 */
export function registrationForOnboarding(
  registration: HomeAppRegistration,
  onboardingProfiles: readonly Profile[],
): PermissionGroup[] {
  const used = new Set(onboardingProfiles.map((p) => p.name));
  return [
    ...registration.applicationPermissions.map(({ resource, roles }) => ({
      resourceAppId: resource.appId,
      resourceName: resource.displayName,
      permissions: roles.map((r) => ({ value: r.value, description: r.description, use: useOf(r, used) })),
    })),
    ...delegatedForOnboarding(registration, onboardingProfiles),
  ];
}

/**
 * The delegated permissions of the registration — what a user who signs in through the broker lets it do as
 * that user, and which the tenant admin's consent grants for every user — by the resource they are registered
 * on, marked with how this onboarding's profiles use them.
 */
export function delegatedForOnboarding(
  registration: HomeAppRegistration,
  onboardingProfiles: readonly Profile[],
): PermissionGroup[] {
  const used = new Set(onboardingProfiles.map((p) => p.name));
  return registration.delegatedPermissions.map(({ resource, scopes }) => ({
    resourceAppId: resource.appId,
    resourceName: `${resource.displayName}, as a user who signs in`,
    permissions: scopes.map((s) => ({
      value: s.value,
      description: s.description,
      use: s.profiles.some((p) => used.has(p)) ? ('equipment' as const) : ('unused' as const),
    })),
  }));
}

/**
 * The app roles a tenant granted (by resource scope, as the consent proof records them) in the registration's
 * words and marks: in registration order, then any role the registration does not list, by name.
 */
export function grantedForOnboarding(
  registration: HomeAppRegistration,
  onboardingProfiles: readonly Profile[],
  grantedByScope: Readonly<Record<string, readonly string[]>>,
): PermissionGroup[] {
  const used = new Set(onboardingProfiles.map((p) => p.name));
  const groups: PermissionGroup[] = [];
  for (const [scope, values] of Object.entries(grantedByScope)) {
    if (values.length === 0) continue;
    const registered = registration.applicationPermissions.find(
      (g) => g.resource.scope.toLowerCase() === scope.toLowerCase(),
    );
    const granted = new Set(values);
    const known = (registered?.roles ?? []).filter((r) => granted.has(r.value));
    const knownValues = new Set(known.map((r) => r.value));
    const others = [...granted].filter((v) => !knownValues.has(v)).sort();
    groups.push({
      resourceAppId: registered?.resource.appId,
      resourceName: registered?.resource.displayName ?? scope,
      permissions: [
        ...known.map((r) => ({ value: r.value, description: r.description, use: useOf(r, used) })),
        ...others.map((value) => ({ value, description: undefined, use: 'unused' as const })),
      ],
    });
  }
  return groups;
}

/**
 * The home app's redirect URIs: the admin-consent callback, the admin's sign-in, a mailbox user's sign-in, and
 * a vendor staff member's sign-in to the support console (infra/app/home-app.bicep `web.redirectUris`; the
 * sandbox's in simulators/sandbox.ts).
 */
export function homeAppRedirectUris(publicUrl: string): string[] {
  return [
    `${publicUrl}/consent/callback`,
    `${publicUrl}/consent/signin`,
    `${publicUrl}/mailbox-grants/callback`,
    `${publicUrl}/console/callback`,
  ];
}

/** The support API's app roles on the home app (SPEC.md "Vendor support"), as infra/app/home-app.bicep declares them. */
const SUPPORT_ROLES = [
  {
    value: 'Broker.Read',
    displayName: 'Broker reader',
    description: 'Read tenants, onboardings, appliances and audit records, and run live checks.',
  },
  {
    value: 'Broker.Admin',
    displayName: 'Broker administrator',
    description:
      'Everything Broker.Read allows, and create onboardings and appliances, rotate and revoke credentials, offboard tenants.',
  },
] as const;

/** A name-based (version 5, SHA-1) UUID of `name` in `namespace` (RFC 9562 §5.5): the same name, the same id. */
function uuidV5(namespace: string, name: string): string {
  const hash = createHash('sha1')
    .update(Buffer.from(namespace.replace(/-/g, ''), 'hex'))
    .update(name, 'utf8')
    .digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const h = hash.subarray(0, 16).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
/** RFC 9562 §6.6's URL namespace: the role ids are names under the app's unique name. */
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

/**
 * The home app as a Microsoft Graph `application` body, for the upsert by `uniqueName`
 * (`PATCH /applications(uniqueName='…')` with `Prefer: create-if-missing`,
 * https://learn.microsoft.com/graph/api/application-upsert, available in every national cloud) that
 * infra/scripts/postprovision.sh sends where the Graph Bicep extension cannot run (national clouds:
 * https://learn.microsoft.com/graph/templates/limitations). The same registration as infra/app/home-app.bicep
 * (test/infra/home-app.test.ts compares them); its permissions are {@link homeAppRegistration}'s. App role ids are
 * derived from the unique name, so that each run sends the same ids (Graph refuses to drop an enabled role).
 */
export function graphApplicationBody(
  catalogue: Profiles,
  app: { readonly uniqueName: string; readonly displayName: string; readonly publicUrl: string },
  bundle: Bundle = catalogue.bundles[0]!,
): Record<string, unknown> {
  // Another bundle's app: the same shape with that bundle's permissions; the support API's roles are the home
  // app's alone (its audience, SPEC.md "Vendor support").
  const registration = bundleRegistration(catalogue, bundle);
  const access = new Map<string, { id: string; type: 'Role' | 'Scope' }[]>();
  for (const { resource, roles } of registration.applicationPermissions)
    access.set(resource.appId, [
      ...(access.get(resource.appId) ?? []),
      ...roles.map((r) => ({ id: r.id, type: 'Role' as const })),
    ]);
  for (const { resource, scopes } of registration.delegatedPermissions)
    access.set(resource.appId, [
      ...(access.get(resource.appId) ?? []),
      ...scopes.map((s) => ({ id: s.id, type: 'Scope' as const })),
    ]);
  access.set(registration.signInResourceAppId, [
    ...(access.get(registration.signInResourceAppId) ?? []),
    ...registration.signInScopes.map((s) => ({ id: s.id, type: 'Scope' as const })),
  ]);
  return {
    displayName: app.displayName,
    signInAudience: 'AzureADMultipleOrgs',
    web: {
      redirectUris: homeAppRedirectUris(app.publicUrl),
      implicitGrantSettings: { enableIdTokenIssuance: false, enableAccessTokenIssuance: false },
    },
    groupMembershipClaims: 'DirectoryRole',
    optionalClaims: { idToken: [{ name: 'acct', essential: false }] },
    appRoles: (bundle.home ? SUPPORT_ROLES : []).map((r) => ({
      id: uuidV5(URL_NAMESPACE, `${app.uniqueName}/${r.value}`),
      ...r,
      allowedMemberTypes: ['User', 'Application'],
      isEnabled: true,
    })),
    requiredResourceAccess: [...access].map(([resourceAppId, resourceAccess]) => ({
      resourceAppId,
      resourceAccess,
    })),
  };
}
