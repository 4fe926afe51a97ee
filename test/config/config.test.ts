import { describe, expect, it } from 'vitest';
import { problemsOf } from '../helpers/config-problems.js';
import { ConfigError, loadConfig, loadTelemetryConfig } from '../../src/config.js';

const valid = {
  BROKER_PUBLIC_URL: 'https://broker.example.com/',
  HOME_APP_CLIENT_ID: '3B8E6D0A-57C4-4F0E-8D2B-A1C9E4F7B250',
  HOME_APP_CREDENTIAL_NAME: 'home-app-credential',
  KEY_VAULT_URL: 'https://broker.vault.azure.net',
  BROKER_STORAGE__tableServiceUri: 'https://broker.table.core.windows.net',
  VENDOR_TENANT_ID: '5f3c7a1e-0b6d-4c2e-9a41-7d8e2f1b6c30',
};

describe('loadConfig', () => {
  it('reads a production configuration with the documented defaults', () => {
    const c = loadConfig(valid);
    expect(c).toMatchObject({
      publicUrl: 'https://broker.example.com',
      homeAppClientId: '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250',
      homeAppCredential: { kind: 'keyVault', name: 'home-app-credential' },
      entraAuthorityHost: 'https://login.microsoftonline.com',
      graphEndpoint: 'https://graph.microsoft.com',
      tableStorage: { kind: 'tableServiceUri', tableServiceUri: 'https://broker.table.core.windows.net' },
      azureIdentity: { kind: 'managedIdentity' },
      supportApiAudience: 'api://3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250',
      profilesFile: undefined,
      stateTtlSeconds: 900,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('names every missing setting at once', () => {
    const problems = problemsOf({});
    for (const name of [
      'BROKER_PUBLIC_URL',
      'HOME_APP_CLIENT_ID',
      'HOME_APP_CREDENTIAL_NAME',
      'KEY_VAULT_URL',
      'BROKER_STORAGE',
      'VENDOR_TENANT_ID',
    ]) {
      expect(problems.some((p) => p.startsWith(name))).toBe(true);
    }
  });

  it.each([
    ['HOME_APP_CLIENT_ID', 'not-a-guid', 'HOME_APP_CLIENT_ID must be a GUID'],
    ['VENDOR_TENANT_ID', 'contoso.com', 'VENDOR_TENANT_ID must be a GUID'],
    ['KEY_VAULT_URL', 'http://broker.vault.azure.net', 'KEY_VAULT_URL must be an https URL'],
    ['ENTRA_AUTHORITY_HOST', 'login.microsoftonline.com', 'ENTRA_AUTHORITY_HOST must be an absolute URL'],
    [
      'BROKER_PUBLIC_URL',
      'http://broker.example.com',
      'BROKER_PUBLIC_URL must be https unless it is localhost',
    ],
    ['BROKER_PUBLIC_URL', 'https://broker.example.com/?x=1', 'BROKER_PUBLIC_URL must not have a query'],
    ['BROKER_STATE_TTL_S', '15', 'BROKER_STATE_TTL_S must be a whole number'],
    ['BROKER_STATE_TTL_S', '9e2', 'BROKER_STATE_TTL_S must be a whole number'],
    ['HOME_APP_CREDENTIAL_NAME', 'bad_name!', 'HOME_APP_CREDENTIAL_NAME must be a Key Vault secret name'],
    ['BROKER_STORAGE', 'hello', 'BROKER_STORAGE and BROKER_STORAGE__tableServiceUri are both set'],
  ])('refuses a malformed %s with a message naming it', (name, value, message) => {
    const problems = problemsOf({ ...valid, [name]: value });
    expect(problems.join('\n')).toContain(message);
  });

  it('accepts http only for a localhost public URL (Entra allows http redirect URIs only there)', () => {
    expect(loadConfig({ ...valid, BROKER_PUBLIC_URL: 'http://localhost:7071' }).publicUrl).toBe(
      'http://localhost:7071',
    );
  });

  it('refuses two credentials for the home app', () => {
    expect(problemsOf({ ...valid, HOME_APP_CLIENT_SECRET: 's' }).join()).toContain('both set');
  });

  it('uses a client-secret identity when AZURE_CLIENT_SECRET is set, and requires its tenant and client', () => {
    expect(problemsOf({ ...valid, AZURE_CLIENT_SECRET: 'x' }).join('\n')).toMatch(
      /AZURE_TENANT_ID is not set[\s\S]*AZURE_CLIENT_ID is not set/,
    );
    const c = loadConfig({
      ...valid,
      AZURE_CLIENT_SECRET: 'x',
      AZURE_TENANT_ID: valid.VENDOR_TENANT_ID,
      AZURE_CLIENT_ID: valid.HOME_APP_CLIENT_ID,
    });
    expect(c.azureIdentity).toMatchObject({
      kind: 'clientSecret',
      authorityHost: 'https://login.microsoftonline.com',
    });
  });

  it('never puts a secret value into an error message', () => {
    const problems = problemsOf({
      ...valid,
      HOME_APP_CLIENT_SECRET: 'S3cr3t-value',
      BROKER_STORAGE: 'AccountName=a;AccountKey=topsecretkey',
    });
    expect(problems.join('\n')).not.toMatch(/S3cr3t-value|topsecretkey/);
  });
});

describe('APPLICATIONINSIGHTS_CONNECTION_STRING', () => {
  const CS =
    'InstrumentationKey=00000000-1111-2222-3333-444444444444;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/;LiveEndpoint=https://westeurope.livediagnostics.monitor.azure.com/;ApplicationId=abc';

  it('is optional: absent, no telemetry is exported', () => {
    const none = { applicationInsightsConnectionString: undefined, samplerFromEnvironment: false };
    expect(loadConfig(valid).telemetry).toEqual(none);
    expect(loadTelemetryConfig({})).toEqual(none);
  });

  it('leaves the sampler to OTEL_TRACES_SAMPLER when it is set, else samples as the distro did', () => {
    const env = { APPLICATIONINSIGHTS_CONNECTION_STRING: CS };
    expect(loadTelemetryConfig(env).samplerFromEnvironment).toBe(false);
    expect(loadTelemetryConfig({ ...env, OTEL_TRACES_SAMPLER: 'always_on' }).samplerFromEnvironment).toBe(
      true,
    );
  });

  it('reads a connection string as the Azure portal shows it', () => {
    const c = loadConfig({ ...valid, APPLICATIONINSIGHTS_CONNECTION_STRING: CS });
    expect(c.telemetry.applicationInsightsConnectionString).toBe(CS);
    expect(loadTelemetryConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: CS })).toEqual(c.telemetry);
  });

  it.each([
    ['a bare instrumentation key', '00000000-1111-2222-3333-444444444444', 'InstrumentationKey is missing'],
    [
      'a key that is not a GUID',
      'InstrumentationKey=abc;IngestionEndpoint=https://x.in.applicationinsights.azure.com/',
      'InstrumentationKey is not a GUID',
    ],
    [
      'no ingestion endpoint',
      'InstrumentationKey=00000000-1111-2222-3333-444444444444',
      'IngestionEndpoint is missing',
    ],
    [
      'an http endpoint',
      'InstrumentationKey=00000000-1111-2222-3333-444444444444;IngestionEndpoint=http://x.example/',
      'IngestionEndpoint is not an https URL',
    ],
  ])('refuses %s, naming the setting and never echoing the value', (_, value, why) => {
    for (const problems of [
      problemsOf({ ...valid, APPLICATIONINSIGHTS_CONNECTION_STRING: value }),
      (() => {
        try {
          loadTelemetryConfig({ APPLICATIONINSIGHTS_CONNECTION_STRING: value });
        } catch (err) {
          if (err instanceof ConfigError) return err.problems;
        }
        return [];
      })(),
    ]) {
      expect(problems).toHaveLength(1);
      expect(problems[0]).toMatch(/^APPLICATIONINSIGHTS_CONNECTION_STRING must be an Application Insights/);
      expect(problems[0]).toContain(why);
      expect(problems[0]).not.toContain(value);
    }
  });
});
