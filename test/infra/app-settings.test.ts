/**
 * Every setting of the broker reaches Azure: each name of SPEC.md's Settings table is an app setting of the
 * Functions app in infra/app/function-app.bicep and a key of local.settings.sample.json, except the few that have
 * no place in Azure, each with its reason. And nothing src/config.ts reads is missing from that list.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { IDENTITY_BY_SECRET, OPENTELEMETRY_STANDARD, SETTINGS } from '../helpers/settings.js';
import { appSettingNames, readBicep, readRepoFile } from './bicep.js';

/** Settings deliberately not app settings in Azure (the comment above `appSettings` in function-app.bicep says the same). */
const NOT_IN_AZURE: Readonly<Record<string, string>> = {
  PORT: 'local only: the listen port of the local host; in Azure the Functions host owns the socket',
  NODE_EXTRA_CA_CERTS:
    'local only: trusts the sandbox CA of the simulators; Azure endpoints carry public certificates',
  HOME_APP_CLIENT_SECRET:
    'secret: read from Key Vault through HOME_APP_CREDENTIAL_NAME (or a Key Vault reference)',
  BROKER_STORAGE: 'secret: a connection string with an account key; storage is reached by identity instead',
  BROKER_WEBHOOK_PRIVATE_TARGETS:
    'sandbox only: lets webhooks reach private and loopback receivers; in Azure it stays off (absent)',
};

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
    const known = new Set<string>([...SETTINGS, ...IDENTITY_BY_SECRET, ...OPENTELEMETRY_STANDARD]);
    expect([...read].filter((name) => !known.has(name))).toEqual([]);
  });
});
