/**
 * Bundles of profiles, each served by an app of its own (src/profiles/profiles.ts `Bundle`,
 * src/credentials/bundle-apps.ts): the file's `bundles`, the registration of each app, the settings that name
 * each app.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';
import { bundleApps } from '../../src/credentials/bundle-apps.js';
import { grantApp } from '../../src/grants/grant-sign-in.js';
import { loadProfiles, type Profiles } from '../../src/profiles/profiles.js';
import {
  bundleRegistration,
  graphApplicationBody,
  homeAppRegistration,
} from '../../src/profiles/registration.js';
import { profileProblems } from '../helpers/profiles.js';

const EXAMPLE = 'docs/examples/bundles.profiles.json';
const example = async (): Promise<Profiles> => loadProfiles(EXAMPLE);
const doc = async () => JSON.parse(await readFile(EXAMPLE, 'utf8')) as Record<string, unknown>;
const CALENDAR_APP = '6f1f3d2e-0b7a-4c1e-9d7e-3a2b1c0d9e8f';
const HOME_APP = '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250';
const EWS_APP = '0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f';

describe('bundles in the profiles file', () => {
  it('gives a file without bundles one, the home app, holding every profile', async () => {
    const p = await loadProfiles(undefined);
    expect(p.bundles.map((b) => [b.name, b.home, b.profiles.length])).toEqual([
      ['home', true, p.profiles.size],
    ]);
    expect(p.bundleOf('exchange-ews').name).toBe('home');
    expect(homeAppRegistration(p)).toEqual(bundleRegistration(p, p.bundles[0]!));
  });

  it('groups the example file into mail, calendar and ews, and knows which bundles profiles need, in order', async () => {
    const p = await example();
    expect(p.bundles.map((b) => [b.name, b.home])).toEqual([
      ['mail', true],
      ['calendar', false],
      ['ews', false],
    ]);
    expect(p.bundleOf('exchange-imap').name).toBe('mail');
    expect(p.bundleOf('user-ews').name).toBe('ews');
    expect(p.bundlesFor(['exchange-ews', 'graph-calendar', 'exchange-imap']).map((b) => b.name)).toEqual([
      'mail',
      'calendar',
      'ews',
    ]);
    expect(p.bundlesFor(['exchange-imap', 'exchange-smtp']).map((b) => b.name)).toEqual(['mail']);
  });

  it("lists in each app's registration only its bundle's permissions and the broker's own", async () => {
    const p = await example();
    const mail = bundleRegistration(p, p.bundles[0]!);
    const roles = mail.applicationPermissions.flatMap((g) => g.roles.map((r) => r.value));
    expect(roles.sort()).toEqual([
      'IMAP.AccessAsApp',
      'Organization.Read.All',
      'POP.AccessAsApp',
      'SMTP.SendAsApp',
    ]);
    expect(mail.delegatedPermissions.flatMap((g) => g.scopes.map((s) => s.value)).sort()).toEqual([
      'IMAP.AccessAsUser.All',
      'POP.AccessAsUser.All',
      'SMTP.Send',
    ]);
    const ews = bundleRegistration(p, p.bundles[2]!);
    expect(ews.applicationPermissions.flatMap((g) => g.roles.map((r) => r.value)).sort()).toEqual([
      'Organization.Read.All',
      'full_access_as_app',
    ]);
    // The support API's roles are the home app's only (its audience).
    const app = {
      uniqueName: 'northwind-broker',
      displayName: 'Northwind',
      publicUrl: 'https://broker.example',
    };
    expect((graphApplicationBody(p, app) as { appRoles: unknown[] }).appRoles).toHaveLength(2);
    expect((graphApplicationBody(p, app, p.bundles[1]!) as { appRoles: unknown[] }).appRoles).toEqual([]);
  });

  it('names each broken bundle entry', async () => {
    const d = await doc();
    const bundles = d.bundles as { name: string; profiles: string[] }[];
    const broken = {
      ...d,
      bundles: [
        { ...bundles[0], profiles: [...bundles[0]!.profiles, 'exchange-ews', 'no-such-profile'] },
        { ...bundles[1], name: 'Calendar' },
        { name: 'ews', title: '', profiles: ['exchange-ews'] },
        { name: 'ews', title: 'again', profiles: [] },
      ],
    };
    const found = profileProblems(broken);
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringContaining('bundles[0] ("mail").profiles: names "no-such-profile", not a profile'),
        expect.stringContaining('"exchange-ews" is already in bundle "mail"'),
        expect.stringContaining('bundles[1] ("Calendar").name: must be lower-case'),
        expect.stringContaining('bundles[2] ("ews").title'),
        expect.stringContaining('bundles[3] ("ews").profiles: must be a non-empty array'),
        expect.stringContaining('bundles: profile "user-ews" is in no bundle'),
      ]),
    );
    expect(profileProblems({ ...d, bundles: [] })).toEqual([
      expect.stringContaining('"bundles" must be a non-empty array'),
    ]);
  });
});

describe("each bundle's app from the settings", () => {
  const env = {
    BROKER_PUBLIC_URL: 'https://broker.example',
    HOME_APP_CLIENT_ID: HOME_APP,
    HOME_APP_CREDENTIAL_NAME: 'home-app-credential',
    VENDOR_TENANT_ID: '9188040d-6c67-4c5b-b112-36a304b66dad',
    KEY_VAULT_URL: 'https://vault.example.net',
    BROKER_STORAGE: 'UseDevelopmentStorage=true',
    GRAPH_ENDPOINT: 'https://graph.microsoft.com',
    ENTRA_AUTHORITY_HOST: 'https://login.microsoftonline.com',
  };

  it('serves the first bundle with the home app and each other with BUNDLE_<NAME>_* settings', async () => {
    const config = loadConfig({
      ...env,
      BUNDLE_CALENDAR_CLIENT_ID: CALENDAR_APP.toUpperCase(),
      BUNDLE_CALENDAR_CREDENTIAL_NAME: 'calendar-app-credential',
      BUNDLE_EWS_CLIENT_ID: EWS_APP,
      BUNDLE_EWS_CLIENT_SECRET: 'ews-secret',
    });
    const apps = bundleApps(await example(), config);
    expect(apps.all.map((a) => [a.bundle.name, a.clientId, a.credential])).toEqual([
      [
        'mail',
        HOME_APP,
        { kind: 'keyVault', name: 'home-app-credential', setting: 'HOME_APP_CREDENTIAL_NAME' },
      ],
      [
        'calendar',
        CALENDAR_APP,
        { kind: 'keyVault', name: 'calendar-app-credential', setting: 'BUNDLE_CALENDAR_CREDENTIAL_NAME' },
      ],
      ['ews', EWS_APP, { kind: 'secret', secret: 'ews-secret' }],
    ]);
    expect(apps.forProfile('graph-presence').clientId).toBe(CALENDAR_APP);
    expect(apps.forProfiles(['user-ews', 'user-imap']).map((a) => a.bundle.name)).toEqual(['mail', 'ews']);
    expect(apps.byClientId(EWS_APP.toUpperCase())?.bundle.name).toBe('ews');
  });

  it("signs a grant's user in to the app the grant was made with, even after its profile moved bundle", async () => {
    const config = loadConfig({
      ...env,
      BUNDLE_CALENDAR_CLIENT_ID: CALENDAR_APP,
      BUNDLE_CALENDAR_CREDENTIAL_NAME: 'calendar-app-credential',
      BUNDLE_EWS_CLIENT_ID: EWS_APP,
      BUNDLE_EWS_CLIENT_SECRET: 'ews-secret',
    });
    const deps = { apps: bundleApps(await example(), config) };
    // Made with the calendar app; its profile now in the mail bundle: the refresh token is still the calendar app's.
    expect(grantApp(deps, { profiles: ['user-imap'], app: CALENDAR_APP })).toEqual({ app: CALENDAR_APP });
    // From before bundles, or with an app the broker no longer serves: its profiles' bundle's app.
    expect(grantApp(deps, { profiles: ['user-calendar-contacts'] })).toEqual({ app: CALENDAR_APP });
    expect(grantApp(deps, { profiles: ['user-imap'], app: '9d2b3c4d-1111-4222-8333-944455566677' })).toEqual(
      {},
    );
    // The home app is the sign-in's default: no `app` named.
    expect(grantApp(deps, { profiles: ['user-calendar-contacts'], app: HOME_APP })).toEqual({});
  });

  it('stops the broker naming the settings a bundle lacks, a shared app or a bundle the file does not have', async () => {
    const p = await example();
    const problems = (extra: Record<string, string>) => {
      try {
        bundleApps(p, loadConfig({ ...env, ...extra }));
        return [];
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        return err.problems;
      }
    };
    expect(problems({ BUNDLE_EWS_CLIENT_ID: EWS_APP, BUNDLE_EWS_CLIENT_SECRET: 's' })).toEqual([
      expect.stringContaining('BUNDLE_CALENDAR_CLIENT_ID is not set: bundle "calendar"'),
    ]);
    expect(
      problems({
        BUNDLE_CALENDAR_CLIENT_ID: EWS_APP,
        BUNDLE_CALENDAR_CLIENT_SECRET: 's',
        BUNDLE_EWS_CLIENT_ID: EWS_APP,
        BUNDLE_EWS_CLIENT_SECRET: 's',
        BUNDLE_FAX_CLIENT_ID: CALENDAR_APP,
        BUNDLE_FAX_CLIENT_SECRET: 's',
      }),
    ).toEqual([
      expect.stringContaining("BUNDLE_EWS_CLIENT_ID is BUNDLE_CALENDAR_CLIENT_ID's app too"),
      expect.stringContaining('BUNDLE_FAX_CLIENT_ID names no bundle'),
    ]);
    // The credential is required as the home app's is.
    expect(() => loadConfig({ ...env, BUNDLE_EWS_CLIENT_ID: EWS_APP })).toThrow(
      /BUNDLE_EWS_CREDENTIAL_NAME or BUNDLE_EWS_CLIENT_SECRET is not set/,
    );
  });
});
