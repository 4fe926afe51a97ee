/**
 * Every setting of the broker reaches Azure: each name of SPEC.md's Settings table is an app setting of the
 * Functions app in infra/app/function-app.bicep and a key of local.settings.sample.json, except the few that have
 * no place in Azure, each with its reason. And nothing src/config.ts reads is missing from that list.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { appSettingNames, readBicep, readRepoFile } from './bicep.js';

/**
 * The settings of SPEC.md "Settings" (`../shared/SPEC.md`, not present on the CI machine, hence a copy), one
 * name per table cell (`BROKER_STORAGE` or `BROKER_STORAGE__tableServiceUri` are two settings), plus those the
 * README's table adds: BROKER_VENDOR_NAME and AZURE_CLIENT_ID, and APPLICATIONINSIGHTS_CONNECTION_STRING, which
 * src/config.ts reads for telemetry.
 */
const SETTINGS = [
  'BROKER_PUBLIC_URL',
  'HOME_APP_CLIENT_ID',
  'HOME_APP_CLIENT_SECRET',
  'HOME_APP_CREDENTIAL_NAME',
  'ENTRA_AUTHORITY_HOST',
  'GRAPH_ENDPOINT',
  'KEY_VAULT_URL',
  'BROKER_STORAGE',
  'BROKER_STORAGE__tableServiceUri',
  'VENDOR_TENANT_ID',
  'SUPPORT_API_AUDIENCE',
  'PORT',
  'BROKER_PROFILES_FILE',
  'BROKER_STATE_TTL_S',
  'NODE_EXTRA_CA_CERTS',
  'BROKER_VENDOR_NAME',
  'AZURE_CLIENT_ID',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
] as const;

/** Settings deliberately not app settings in Azure (the comment above `appSettings` in function-app.bicep says the same). */
const NOT_IN_AZURE: Readonly<Record<string, string>> = {
  PORT: 'local only: the listen port of the local host; in Azure the Functions host owns the socket',
  NODE_EXTRA_CA_CERTS:
    'local only: trusts the sandbox CA of the simulators; Azure endpoints carry public certificates',
  HOME_APP_CLIENT_SECRET:
    'secret: read from Key Vault through HOME_APP_CREDENTIAL_NAME (or a Key Vault reference)',
  BROKER_STORAGE: 'secret: a connection string with an account key; storage is reached by identity instead',
};

/**
 * Settings src/config.ts reads that are not in SETTINGS: the broker's own identity by client secret, the
 * standard @azure/identity names, only where no managed identity exists (README "Settings").
 */
const IDENTITY_BY_SECRET = ['AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_AUTHORITY_HOST'];

const bicepSettings = appSettingNames(readBicep('infra/app/function-app.bicep'));
const sample = JSON.parse(readRepoFile('local.settings.sample.json')) as { Values: Record<string, string> };

describe('app settings in infra/app/function-app.bicep', () => {
  it('lists each app setting once', () => {
    expect(bicepSettings.length).toBeGreaterThan(10);
    expect(bicepSettings.filter((n, i) => bicepSettings.indexOf(n) !== i)).toEqual([]);
  });

  it('has every setting of SPEC.md except the documented local-only and secret ones', () => {
    const expected = SETTINGS.filter((name) => !(name in NOT_IN_AZURE));
    expect(expected.filter((name) => !bicepSettings.includes(name))).toEqual([]);
  });

  it('puts no local-only or secret setting into plain app settings', () => {
    expect(bicepSettings.filter((name) => name in NOT_IN_AZURE || IDENTITY_BY_SECRET.includes(name))).toEqual(
      [],
    );
  });

  it('connects the Functions host to its storage by identity, not by connection string', () => {
    expect(bicepSettings).toEqual(
      expect.arrayContaining([
        'AzureWebJobsStorage__accountName',
        'AzureWebJobsStorage__credential',
        'AzureWebJobsStorage__clientId',
      ]),
    );
    expect(bicepSettings).not.toContain('AzureWebJobsStorage');
  });

  it('keeps the exemptions to settings that exist', () => {
    expect(
      Object.keys(NOT_IN_AZURE).filter((name) => !(SETTINGS as readonly string[]).includes(name)),
    ).toEqual([]);
  });
});

describe('local.settings.sample.json', () => {
  it('names every setting, with the same names', () => {
    expect(SETTINGS.filter((name) => !(name in sample.Values))).toEqual([]);
  });
});

describe('src/config.ts', () => {
  it('reads no setting that the list above (and so the infra) does not know', () => {
    const source = readRepoFile('src/config.ts');
    // Every quoted environment-variable-like name: UPPER_CASE with underscores, optionally `__camelCase`.
    const read = new Set(
      [...source.matchAll(/'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+(?:__[A-Za-z]+)?)'/g)].map((m) => m[1]!),
    );
    expect(read.size).toBeGreaterThan(10);
    const known = new Set<string>([...SETTINGS, ...IDENTITY_BY_SECRET]);
    expect([...read].filter((name) => !known.has(name))).toEqual([]);
  });
});
