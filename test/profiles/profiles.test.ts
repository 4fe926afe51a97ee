import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadProfiles, parseProfiles } from '../../src/profiles/profiles.js';
import { profileProblems } from '../helpers/profiles.js';

const base = () => ({
  resources: {
    exchange: {
      scope: 'https://outlook.office365.com/.default',
      appId: '00000002-0000-0ff1-ce00-000000000000',
      displayName: 'Exchange',
    },
  },
  profiles: [
    {
      name: 'exchange-imap',
      title: 'IMAP',
      resource: 'exchange',
      roles: [{ value: 'IMAP.AccessAsApp', id: '5e5addcd-3e8d-4e90-baf5-964efab2b20a', description: 'IMAP' }],
    },
  ],
});

const problems = profileProblems;

describe('profiles', () => {
  it('ships the six default profiles of SPEC.md, the Graph ones that replace EWS and the delegated ones, with their ids', async () => {
    const p = await loadProfiles(undefined);
    expect([...p.profiles.keys()]).toEqual([
      'exchange-imap',
      'exchange-pop',
      'exchange-smtp',
      'exchange-ews',
      'graph-mail',
      'graph-calendar-contacts',
      'graph-calendar',
      'graph-directory',
      'graph-presence',
      'user-imap',
      'user-pop',
      'user-smtp',
      'user-ews',
      'user-mail-send',
      'user-calendar-contacts',
    ]);
    const roles = (name: string) => p.get(name)!.roles.map((r) => `${r.value}=${r.id}`);
    expect(roles('exchange-imap')).toEqual(['IMAP.AccessAsApp=5e5addcd-3e8d-4e90-baf5-964efab2b20a']);
    expect(roles('exchange-pop')).toEqual(['POP.AccessAsApp=cb842b43-da6e-4506-86fe-bb12199c656d']);
    expect(roles('exchange-smtp')).toEqual(['SMTP.SendAsApp=7146a1f0-8703-45b3-9eae-527a64c00995']);
    expect(roles('exchange-ews')).toEqual(['full_access_as_app=dc890d15-9560-4a4c-9b7f-a736ec74ec40']);
    expect(roles('graph-mail')).toEqual([
      'Mail.ReadWrite=e2a3a72e-5f79-4c64-b1b1-878b674786c9',
      'Mail.Send=b633e1c5-b582-4048-a93e-9f11b44c7e96',
    ]);
    expect(roles('graph-calendar')).toEqual(['Calendars.ReadWrite=ef54d2bf-783f-4e0f-bca1-3210c0444d99']);
    expect(roles('graph-directory')).toEqual([
      'User.Read.All=df021288-bdef-4463-88db-98f22de89214',
      'Contacts.Read=089fe4d0-434a-44c5-8827-41ba8a0b17f5',
      'OrgContact.Read.All=e1a88a34-94c4-4418-be12-c87b00e26bea',
    ]);
    expect(roles('graph-presence')).toEqual(['Presence.Read.All=a70e0c2d-e793-494c-94c4-118fa0a67f42']);
    expect(roles('graph-calendar-contacts')).toEqual([
      'Calendars.ReadWrite=ef54d2bf-783f-4e0f-bca1-3210c0444d99',
      'Contacts.ReadWrite=6918b873-d17a-4dc1-b314-35f528134491',
    ]);
    // Delegated: Microsoft Graph's permission ids (registered there, FACTS-style sources in registration.ts), asked
    // for on the profile's resource.
    const scopes = (name: string) =>
      p.get(name)!.scopes.map((s) => `${s.tokenScope}=${s.id}@${s.registeredOn.key}`);
    expect(scopes('user-imap')).toEqual([
      'https://outlook.office365.com/IMAP.AccessAsUser.All=652390e4-393a-48de-9484-05f9b1212954@graph',
    ]);
    expect(scopes('user-pop')).toEqual([
      'https://outlook.office365.com/POP.AccessAsUser.All=d7b7f2d9-0f45-4ea1-9d42-e50810c06991@graph',
    ]);
    expect(scopes('user-smtp')).toEqual([
      'https://outlook.office365.com/SMTP.Send=258f6531-6087-4cc4-bb90-092c5fb3ed3f@graph',
    ]);
    expect(scopes('user-ews')).toEqual([
      'https://outlook.office365.com/EWS.AccessAsUser.All=9769c687-087d-48ac-9cb3-c37dde652038@graph',
    ]);
    expect(scopes('user-mail-send')).toEqual([
      'https://graph.microsoft.com/Mail.Send=e383f46e-2787-4529-855e-0e479a3ffac0@graph',
    ]);
    expect(scopes('user-calendar-contacts')).toEqual([
      'https://graph.microsoft.com/Calendars.ReadWrite=1ec239c2-d7c9-4623-a91a-a9775856bb36@graph',
      'https://graph.microsoft.com/Contacts.ReadWrite=d56682ec-c09e-4743-aaf4-1a3aac4caa21@graph',
      'https://graph.microsoft.com/People.Read=ba47897c-39ec-4d83-8086-ee8256fa737d@graph',
    ]);
    for (const profile of p.profiles.values())
      if (profile.kind === 'delegated') expect(profile.roles).toEqual([]);
      else expect(profile.scopes).toEqual([]);
    expect(p.get('exchange-imap')!.resource.scope).toBe('https://outlook.office365.com/.default');
    expect(p.get('graph-mail')!.resource.scope).toBe('https://graph.microsoft.com/.default');
    expect(p.brokerRoles.map((r) => `${r.value}=${r.id}`)).toEqual([
      'Organization.Read.All=498476ce-e0fe-48b0-b801-37ba7e2685c6',
    ]);
    expect(p.resourceForScope('HTTPS://graph.microsoft.com/.default')?.key).toBe('graph');
  });

  it('knows each resource by every declared spelling, and says which one a scope names', async () => {
    const p = await loadProfiles(undefined);
    expect(p.resources.get('exchange')!.spellings).toEqual([
      'https://outlook.office365.com/.default',
      'https://outlook.office.com/.default',
      '00000002-0000-0ff1-ce00-000000000000/.default',
    ]);
    expect(p.spellingOf('HTTPS://OUTLOOK.OFFICE.COM/.default')).toMatchObject({
      resource: { key: 'exchange' },
      spelling: 'https://outlook.office.com/.default',
    });
    expect(p.spellingOf('00000003-0000-0000-c000-000000000000/.default')?.resource.key).toBe('graph');
    expect(p.spellingOf('https://ps.outlook.com/.default')).toBeUndefined();
    const doc = {
      ...base(),
      resources: { exchange: { ...base().resources.exchange, aliases: ['outlook'] } },
    };
    expect(problems(doc)).toEqual([
      'resources.exchange.aliases: each must be an https resource URI ending in "/.default"',
    ]);
  });

  it('names the broken entry: a role id that is not a GUID', () => {
    const doc = base();
    doc.profiles[0]!.roles[0]!.id = 'IMAP';
    expect(problems(doc)).toEqual([
      'profiles[0] ("exchange-imap").roles[0].id: must be the app role\'s id (a GUID), got "IMAP"',
    ]);
  });

  it.each([
    [
      'a scope that is not .default',
      (d: ReturnType<typeof base>) =>
        (d.resources.exchange.scope = 'https://outlook.office365.com/IMAP.AccessAsApp'),
      'resources.exchange.scope',
    ],
    [
      'an unknown resource',
      (d: ReturnType<typeof base>) => (d.profiles[0]!.resource = 'sharepoint'),
      'names resource "sharepoint"',
    ],
    [
      'a duplicate name',
      (d: ReturnType<typeof base>) => d.profiles.push(structuredClone(d.profiles[0]!)),
      '"exchange-imap" is defined twice',
    ],
    [
      'no roles',
      (d: ReturnType<typeof base>) => (d.profiles[0]!.roles = []),
      'roles: must be a non-empty array',
    ],
    [
      'a name with capitals',
      (d: ReturnType<typeof base>) => (d.profiles[0]!.name = 'Exchange'),
      'name: must be lower-case',
    ],
  ])('refuses %s', (_, mutate, message) => {
    const doc = base();
    mutate(doc);
    expect(problems(doc).join('\n')).toContain(message);
  });

  describe('a delegated profile', () => {
    const delegated = (extra: Record<string, unknown> = {}) => {
      const doc = base() as ReturnType<typeof base> & { profiles: Record<string, unknown>[] };
      doc.profiles.push({
        name: 'user-imap',
        kind: 'delegated',
        title: 'IMAP as a user',
        resource: 'exchange',
        scopes: [
          {
            value: 'IMAP.AccessAsUser.All',
            id: '652390e4-393a-48de-9484-05f9b1212954',
            registeredOn: 'graph',
            description: 'Read a mailbox as the user',
          },
        ],
        ...extra,
      });
      return doc;
    };

    it('is asked for as its resource and scope, registered on the resource named', () => {
      const withGraph = delegated();
      (withGraph.resources as Record<string, unknown>).graph = {
        appId: '00000003-0000-0000-c000-000000000000',
        displayName: 'Microsoft Graph',
      };
      const p = parseProfiles(withGraph, 'test.json');
      const imap = p.get('user-imap')!;
      expect(imap.kind).toBe('delegated');
      expect(imap.roles).toEqual([]);
      expect(imap.scopes.map((s) => [s.tokenScope, s.registeredOn.key])).toEqual([
        ['https://outlook.office365.com/IMAP.AccessAsUser.All', 'graph'],
      ]);
      expect(p.get('exchange-imap')!.kind).toBe('application');
    });

    it.each([
      ['roles instead of scopes', { scopes: undefined, roles: [] }, 'scopes: must be a non-empty array'],
      ['roles beside its scopes', { roles: [] }, 'roles: a delegated profile has scopes, not roles'],
      ['an unknown kind', { kind: 'user' }, 'kind: must be "application" or "delegated", got "user"'],
      [
        'a scope given as a URI',
        {
          scopes: [
            {
              value: 'https://outlook.office365.com/IMAP.AccessAsUser.All',
              id: '652390e4-393a-48de-9484-05f9b1212954',
              description: 'x',
            },
          ],
        },
        'scopes[0].value: must be a delegated permission such as "IMAP.AccessAsUser.All"',
      ],
      [
        'a resource it is registered on that the file does not define',
        {
          scopes: [
            {
              value: 'SMTP.Send',
              id: '258f6531-6087-4cc4-bb90-092c5fb3ed3f',
              registeredOn: 'nope',
              description: 'x',
            },
          ],
        },
        'scopes[0].registeredOn: names resource "nope"',
      ],
    ])('refuses %s', (_, extra, message) => {
      expect(profileProblems(delegated(extra)).join('\n')).toContain(message);
    });

    it('tells an application profile with scopes to say it is delegated', () => {
      const doc = base() as ReturnType<typeof base> & { profiles: Record<string, unknown>[] };
      doc.profiles[0]!.scopes = [];
      expect(profileProblems(doc).join('\n')).toContain(
        'scopes: an application profile has roles, not scopes (set "kind": "delegated" for a user\'s sign-in)',
      );
    });
  });

  it('refuses a file that is not JSON, or cannot be read, naming the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'profiles-'));
    const path = join(dir, 'p.json');
    await writeFile(path, '{"resources": ');
    await expect(loadProfiles(path)).rejects.toThrow(`Invalid profiles file ${path}:\n  - is not valid JSON`);
    await expect(loadProfiles(join(dir, 'missing.json'))).rejects.toThrow('cannot be read: ENOENT');
  });

  it('loads a valid operator file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'profiles-'));
    const path = join(dir, 'p.json');
    await writeFile(path, JSON.stringify(base()));
    expect([...(await loadProfiles(path)).profiles.keys()]).toEqual(['exchange-imap']);
  });
});
