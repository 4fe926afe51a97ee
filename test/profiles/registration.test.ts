/**
 * The broker's one source for "the home app registration's permissions" (src/profiles/registration.ts) agrees
 * with the registration as deployed (infra/app/home-app.bicep) and as the sandbox seeds it
 * (simulators/sandbox.ts): the same application permissions per resource, and the same delegated sign-in
 * scopes. `/.default` grants exactly that list (FACTS.md §1.1), so the consent pages built from it say what
 * the admin really grants.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { loadProfiles, parseProfiles } from '../../src/profiles/profiles.js';
import {
  grantedForOnboarding,
  homeAppRedirectUris,
  homeAppRegistration,
  registrationForOnboarding,
} from '../../src/profiles/registration.js';
import { World } from '../../simulators/common/world.js';
import { FIRST_PARTY_RESOURCES, GRAPH_APP_ID } from '../../simulators/common/well-known.js';
import { SANDBOX_IDS, seedSandbox } from '../../simulators/sandbox.js';
import { block, readBicep, resources, stringVars } from '../infra/bicep.js';

const catalogue = await loadProfiles(undefined);
const registration = homeAppRegistration(catalogue);

/** Delegated scope ids by resource app id, sorted: the delegated profiles' and the admin sign-in's. */
const delegatedView = (pick: 'id' | 'value'): Record<string, string[]> => {
  const out: Record<string, string[]> = {};
  for (const g of registration.delegatedPermissions)
    out[g.resource.appId] = [...(out[g.resource.appId] ?? []), ...g.scopes.map((s) => s[pick])];
  out[registration.signInResourceAppId] = [
    ...(out[registration.signInResourceAppId] ?? []),
    ...registration.signInScopes.map((s) => s[pick]),
  ];
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.sort()]));
};

/** Role values by resource app id, sorted, from the broker's registration. */
const brokerView = (): Record<string, string[]> =>
  Object.fromEntries(
    registration.applicationPermissions.map((g) => [g.resource.appId, g.roles.map((r) => r.value).sort()]),
  );

/** `requiredResourceAccess` of home-app.bicep: ids of `type` entries by resource app id. */
function bicepAccess(type: 'Role' | 'Scope'): Record<string, string[]> {
  const bicep = readBicep('infra/app/home-app.bicep');
  const app = resources(bicep, 'Microsoft.Graph/applications').get('app')!;
  const vars = stringVars(bicep);
  const out: Record<string, string[]> = {};
  for (const chunk of block(app, 'requiredResourceAccess: [')
    .split(/resourceAppId:\s*/)
    .slice(1)) {
    const ref = /^(\w+|'[^']+')/.exec(chunk)![1]!;
    const appId = ref.startsWith("'") ? ref.slice(1, -1) : vars.get(ref);
    if (!appId) throw new Error(`unknown resourceAppId ${ref}`);
    const pattern = new RegExp(`\\{\\s*id:\\s*'([0-9a-f-]{36})',\\s*type:\\s*'${type}'\\s*\\}`, 'g');
    const ids = [...chunk.matchAll(pattern)].map((m) => m[1]!);
    if (ids.length > 0) out[appId] = ids;
  }
  return out;
}

/** An app role id as the resource publishes it (the simulators' copy of Microsoft's, FACTS.md §5). */
const roleValue = (appId: string, id: string): string =>
  FIRST_PARTY_RESOURCES.find((r) => r.appId === appId)?.appRoles.find((r) => r.id === id)?.value ??
  `unknown role ${id} of ${appId}`;

describe("the home app registration's permissions (src/profiles/registration.ts)", () => {
  it('are every role of every profile and the broker roles, each once, by resource, with their profiles', () => {
    expect(brokerView()).toEqual({
      '00000002-0000-0ff1-ce00-000000000000': [
        'IMAP.AccessAsApp',
        'POP.AccessAsApp',
        'SMTP.SendAsApp',
        'full_access_as_app',
      ],
      [GRAPH_APP_ID]: [
        'Calendars.ReadWrite',
        'Contacts.Read',
        'Contacts.ReadWrite',
        'Mail.ReadWrite',
        'Mail.Send',
        'OrgContact.Read.All',
        'Organization.Read.All',
        'Presence.Read.All',
        'User.Read.All',
      ],
    });
    const graph = registration.applicationPermissions.find((g) => g.resource.appId === GRAPH_APP_ID)!;
    expect(graph.roles.find((r) => r.value === 'Mail.Send')).toMatchObject({
      profiles: ['graph-mail'],
      broker: false,
    });
    expect(graph.roles.find((r) => r.value === 'Organization.Read.All')).toMatchObject({
      profiles: [],
      broker: true,
    });
    expect(registration.signInScopes.map((s) => s.value)).toEqual(['openid', 'profile', 'offline_access']);
    expect(registration.signInResourceAppId).toBe(GRAPH_APP_ID);
  });

  it("are every delegated profile's scopes, each once, on the resource they are registered on", () => {
    // All on Microsoft Graph, IMAP/POP/SMTP/EWS included, although their tokens are Exchange Online's.
    expect(registration.delegatedPermissions.map((g) => g.resource.appId)).toEqual([GRAPH_APP_ID]);
    expect(
      registration.delegatedPermissions[0]!.scopes.map((s) => `${s.value} ${s.id} ${s.profiles.join(',')}`),
    ).toEqual([
      'IMAP.AccessAsUser.All 652390e4-393a-48de-9484-05f9b1212954 user-imap',
      'POP.AccessAsUser.All d7b7f2d9-0f45-4ea1-9d42-e50810c06991 user-pop',
      'SMTP.Send 258f6531-6087-4cc4-bb90-092c5fb3ed3f user-smtp',
      'EWS.AccessAsUser.All 9769c687-087d-48ac-9cb3-c37dde652038 user-ews',
      'Mail.Send e383f46e-2787-4529-855e-0e479a3ffac0 user-mail-send',
      'Calendars.ReadWrite 1ec239c2-d7c9-4623-a91a-a9775856bb36 user-calendar-contacts',
      'Contacts.ReadWrite d56682ec-c09e-4743-aaf4-1a3aac4caa21 user-calendar-contacts',
      'People.Read ba47897c-39ec-4d83-8086-ee8256fa737d user-calendar-contacts',
    ]);
  });

  it('are those home-app.bicep declares: the same app roles and the same delegated scopes', () => {
    const roles = bicepAccess('Role');
    expect(
      Object.fromEntries(
        Object.entries(roles).map(([appId, ids]) => [appId, ids.map((id) => roleValue(appId, id)).sort()]),
      ),
    ).toEqual(brokerView());
    // Ids too, not only names: the bicep names a role by its id (FACTS.md §5.2, §5.3).
    for (const g of registration.applicationPermissions)
      expect([...(roles[g.resource.appId] ?? [])].sort()).toEqual(g.roles.map((r) => r.id).sort());
    expect(
      Object.fromEntries(Object.entries(bicepAccess('Scope')).map(([appId, ids]) => [appId, ids.sort()])),
    ).toEqual(delegatedView('id'));
  });

  it('are those the sandbox home app registration lists (simulators/sandbox.ts)', () => {
    const world = new World();
    seedSandbox(world, { publicUrl: 'http://localhost:7071' });
    const home = world.apps.get(SANDBOX_IDS.homeAppId)!;
    expect(home.redirectUris).toEqual(homeAppRedirectUris('http://localhost:7071'));
    expect(
      Object.fromEntries(Object.entries(home.requiredRoles).map(([appId, v]) => [appId, [...v].sort()])),
    ).toEqual(brokerView());
    expect(
      Object.fromEntries(
        Object.entries(home.requiredScopes ?? {}).map(([appId, v]) => [appId, [...v].sort()]),
      ),
    ).toEqual(delegatedView('value'));
  });

  it('count a role two profiles share once, keeping the first plain words and both profiles', () => {
    const imap = { value: 'IMAP.AccessAsApp', id: '5e5addcd-3e8d-4e90-baf5-964efab2b20a' };
    const shared = parseProfiles(
      {
        resources: {
          exchange: {
            scope: 'https://outlook.office365.com/.default',
            appId: '00000002-0000-0ff1-ce00-000000000000',
            displayName: 'Exchange',
          },
        },
        profiles: [
          { name: 'a', title: 'A', resource: 'exchange', roles: [{ ...imap, description: 'first words' }] },
          { name: 'b', title: 'B', resource: 'exchange', roles: [{ ...imap, description: 'other words' }] },
        ],
      },
      'shared.json',
    );
    const reg = homeAppRegistration(shared);
    expect(reg.applicationPermissions).toHaveLength(1);
    expect(reg.applicationPermissions[0]!.roles).toEqual([
      { ...imap, description: 'first words', profiles: ['a', 'b'], broker: false },
    ]);
    expect(registrationForOnboarding(reg, [shared.get('b')!])[0]!.permissions).toEqual([
      { value: 'IMAP.AccessAsApp', description: 'first words', use: 'equipment' },
    ]);
  });
});

describe('marking for one onboarding', () => {
  const imap = catalogue.get('exchange-imap')!;

  it("lists every permission, marking the onboarding's own, the broker's, and the rest", () => {
    const uses = registrationForOnboarding(registration, [imap]).flatMap((g) =>
      g.permissions.map((p) => `${g.resourceName}: ${p.value}=${p.use}`),
    );
    expect(uses).toEqual([
      'Office 365 Exchange Online: IMAP.AccessAsApp=equipment',
      'Office 365 Exchange Online: POP.AccessAsApp=unused',
      'Office 365 Exchange Online: SMTP.SendAsApp=unused',
      'Office 365 Exchange Online: full_access_as_app=unused',
      'Microsoft Graph: Mail.ReadWrite=unused',
      'Microsoft Graph: Mail.Send=unused',
      'Microsoft Graph: Calendars.ReadWrite=unused',
      'Microsoft Graph: Contacts.ReadWrite=unused',
      'Microsoft Graph: User.Read.All=unused',
      'Microsoft Graph: Contacts.Read=unused',
      'Microsoft Graph: OrgContact.Read.All=unused',
      'Microsoft Graph: Presence.Read.All=unused',
      'Microsoft Graph: Organization.Read.All=service',
      'Microsoft Graph, as a user who signs in: IMAP.AccessAsUser.All=unused',
      'Microsoft Graph, as a user who signs in: POP.AccessAsUser.All=unused',
      'Microsoft Graph, as a user who signs in: SMTP.Send=unused',
      'Microsoft Graph, as a user who signs in: EWS.AccessAsUser.All=unused',
      'Microsoft Graph, as a user who signs in: Mail.Send=unused',
      'Microsoft Graph, as a user who signs in: Calendars.ReadWrite=unused',
      'Microsoft Graph, as a user who signs in: Contacts.ReadWrite=unused',
      'Microsoft Graph, as a user who signs in: People.Read=unused',
    ]);
    const delegated = registrationForOnboarding(registration, [catalogue.get('user-smtp')!]).flatMap((g) =>
      g.permissions.filter((p) => p.use === 'equipment').map((p) => `${g.resourceName}: ${p.value}`),
    );
    expect(delegated).toEqual(['Microsoft Graph, as a user who signs in: SMTP.Send']);
  });

  it('describes granted roles in registration order, then roles it does not list by name; skips empty resources', () => {
    const groups = grantedForOnboarding(registration, [imap], {
      'https://OUTLOOK.office365.com/.default': [
        'SMTP.SendAsApp',
        'Exchange.ManageAsApp',
        'IMAP.AccessAsApp',
      ],
      'https://graph.microsoft.com/.default': [],
      'https://unknown.example/.default': ['X.Y'],
    });
    expect(groups).toEqual([
      {
        resourceAppId: '00000002-0000-0ff1-ce00-000000000000',
        resourceName: 'Office 365 Exchange Online',
        permissions: [
          { value: 'IMAP.AccessAsApp', description: imap.roles[0]!.description, use: 'equipment' },
          {
            value: 'SMTP.SendAsApp',
            description: catalogue.get('exchange-smtp')!.roles[0]!.description,
            use: 'unused',
          },
          { value: 'Exchange.ManageAsApp', description: undefined, use: 'unused' },
        ],
      },
      {
        resourceAppId: undefined,
        resourceName: 'https://unknown.example/.default',
        permissions: [{ value: 'X.Y', description: undefined, use: 'unused' }],
      },
    ]);
  });
});
