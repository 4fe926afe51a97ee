/**
 * Every setting of SPEC.md, read once into a typed, frozen Config. This is the only module that reads
 * `process.env`. A missing or malformed setting fails with the setting's name, so that the broker stops at
 * start with a message an operator can act on.
 * @module
 */
import {
  appCredentialSettings,
  type BundleAppSettings,
  type HomeAppCredentialSource,
} from './config-apps.js';
import { CLOUD_NAMES, cloudNamed, cloudsOfEndpoint, PUBLIC_CLOUD, type Cloud } from './cloud/clouds.js';

export type TableStorageConfig =
  | { readonly kind: 'connectionString'; readonly connectionString: string }
  | { readonly kind: 'tableServiceUri'; readonly tableServiceUri: string };

/** The broker's own Azure identity, used for Key Vault and (by URI) Table Storage. */
export type AzureIdentityConfig =
  | { readonly kind: 'managedIdentity'; readonly clientId?: string }
  | {
      readonly kind: 'clientSecret';
      readonly authorityHost: string;
      readonly tenantId: string;
      readonly clientId: string;
      readonly clientSecret: string;
    };

export { bundleSettingName, type BundleAppSettings, type HomeAppCredentialSource } from './config-apps.js';

export interface Config {
  /** `BROKER_CLOUD`: the Microsoft cloud served (src/cloud/clouds.ts); its hosts are the defaults below. */
  readonly cloud: Cloud;
  readonly publicUrl: string;
  readonly homeAppClientId: string;
  readonly homeAppCredential: HomeAppCredentialSource;
  /**
   * The apps of the bundles after the first, by the bundle's name as their settings spell it (`mail-2` →
   * `MAIL_2`): `BUNDLE_MAIL_2_CLIENT_ID` and `BUNDLE_MAIL_2_CLIENT_SECRET` or `BUNDLE_MAIL_2_CREDENTIAL_NAME`.
   */
  readonly bundleApps: ReadonlyMap<string, BundleAppSettings>;
  readonly entraAuthorityHost: string;
  readonly graphEndpoint: string;
  /** `EXCHANGE_EWS_URL`: Exchange Web Services, for the support check's live EWS probe (src/adapters/exchange/). */
  readonly exchangeEwsUrl: string;
  /**
   * `EXCHANGE_IMAP_HOST` (`host:port`): Exchange Online's IMAP, for the login that proves a user may use a shared
   * mailbox (src/grants/grant-sign-in.ts). Default: EWS's host, port 993 — Exchange Online serves IMAP on
   * outlook.office365.com:993 (https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/pop3-and-imap4/pop3-and-imap4,
   * "IMAP4: outlook.office365.com, 993, SSL/TLS"); the national clouds' by the same rule (unverified).
   */
  readonly exchangeImapAddress: string;
  /**
   * `EXCHANGE_POP_HOST` and `EXCHANGE_SMTP_HOST` (`host:port`): POP3 and SMTP submission, for the protocol checks.
   * Defaults: EWS's host on 995, and its `smtp.` host on 587 — outlook.office365.com:995 and smtp.office365.com:587
   * in Microsoft's cloud (same page: "POP3: outlook.office365.com, 995"; "SMTP: smtp.office365.com, 587,
   * STARTTLS"); the national clouds' by the same rule (unverified).
   */
  readonly exchangePopAddress: string;
  readonly exchangeSmtpAddress: string;
  readonly keyVaultUrl: string;
  readonly tableStorage: TableStorageConfig;
  readonly azureIdentity: AzureIdentityConfig;
  readonly vendorTenantId: string;
  readonly supportApiAudience: string;
  /** The vendor's profiles file; absent: the profiles that ship with the broker. */
  readonly profilesFile: string | undefined;
  readonly stateTtlSeconds: number;
  /** The vendor's name as customers know it, shown on the consent pages. */
  readonly vendorName: string;
  /**
   * BROKER_ENROLLMENT: PBXs enrolling themselves (src/appliances/enrollment.ts) — `off`, `onboarded` (only into
   * tenants already connected; the default) or `open`.
   */
  readonly enrollment: 'off' | 'onboarded' | 'open';
  /**
   * BROKER_WEBHOOK_PRIVATE_TARGETS: webhooks may reach private and loopback addresses (the sandbox's own
   * receivers; src/webhooks/target.ts). Off unless `true`; never in Azure.
   */
  readonly webhookPrivateTargets: boolean;
  /** Where telemetry goes (functions/telemetry.ts); absent: none is exported. */
  readonly telemetry: TelemetryConfig;
}

export interface TelemetryConfig {
  /** `APPLICATIONINSIGHTS_CONNECTION_STRING`: the Application Insights resource of the broker, or undefined. */
  readonly applicationInsightsConnectionString: string | undefined;
  /**
   * `OTEL_TRACES_SAMPLER` is set: the OpenTelemetry SDK reads it and its argument itself
   * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration);
   * otherwise the broker samples as the Azure Monitor distro does by default.
   */
  readonly samplerFromEnvironment: boolean;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the settings from `env`; throws ConfigError naming every setting that is missing or malformed. */
export function loadConfig(env: Env): Config {
  const problems: string[] = [];
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v ? v : undefined;
  };
  const required = (name: string, hint: string): string => {
    const v = get(name);
    if (v === undefined) problems.push(`${name} is not set: ${hint}`);
    return v ?? '';
  };
  const guid = (name: string, value: string): string => {
    if (value && !GUID.test(value)) problems.push(`${name} must be a GUID, got "${value}"`);
    return value.toLowerCase();
  };
  const url = (name: string, value: string, opts: { httpsOnly: boolean }): string => {
    if (!value) return value;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      problems.push(`${name} must be an absolute URL, got "${value}"`);
      return value;
    }
    const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname);
    if (parsed.protocol !== 'https:' && !(parsed.protocol === 'http:' && (!opts.httpsOnly || loopback))) {
      problems.push(
        `${name} must be an https URL${opts.httpsOnly ? '' : ' (http only for localhost)'}, got "${value}"`,
      );
    } else if (parsed.search || parsed.hash) {
      problems.push(`${name} must not have a query or fragment, got "${value}"`);
    }
    return value.replace(/\/+$/, '');
  };

  const publicUrl = url(
    'BROKER_PUBLIC_URL',
    required('BROKER_PUBLIC_URL', 'the public base URL, e.g. https://broker.example.com'),
    {
      httpsOnly: false,
    },
  );
  if (
    publicUrl &&
    new URL(publicUrl).protocol === 'http:' &&
    !/^http:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/.test(publicUrl)
  ) {
    problems.push(
      `BROKER_PUBLIC_URL must be https unless it is localhost (Entra accepts http redirect URIs only for localhost)`,
    );
  }
  const homeAppClientId = guid(
    'HOME_APP_CLIENT_ID',
    required('HOME_APP_CLIENT_ID', "the home app's application (client) id"),
  );

  const { homeAppCredential, bundleApps } = appCredentialSettings(env, get, guid, problems);

  const problemsBefore = problems.length;
  const cloud = cloudSetting(get('BROKER_CLOUD'), problems);
  const cloudKnown = problems.length === problemsBefore;
  const entraAuthorityHost = url('ENTRA_AUTHORITY_HOST', get('ENTRA_AUTHORITY_HOST') ?? cloud.authorityHost, {
    httpsOnly: true,
  });
  const graphEndpoint = url('GRAPH_ENDPOINT', get('GRAPH_ENDPOINT') ?? cloud.graphEndpoint, {
    httpsOnly: true,
  });
  // https only, as GRAPH_ENDPOINT: the probe sends a bearer token (how-to-authenticate-an-ews-application-by-using-oauth).
  const exchangeEwsUrl = url('EXCHANGE_EWS_URL', get('EXCHANGE_EWS_URL') ?? cloud.ewsUrl, {
    httpsOnly: true,
  });
  const ewsHost = URL.canParse(exchangeEwsUrl) ? new URL(exchangeEwsUrl).hostname : 'outlook.office365.com';
  const hostPort = (name: string, fallback: string) => {
    const value = get(name) ?? fallback;
    if (!/^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(value))
      problems.push(`${name} must be host:port, e.g. ${fallback}`);
    return value;
  };
  const exchangeImapAddress = hostPort('EXCHANGE_IMAP_HOST', `${ewsHost}:993`);
  const exchangePopAddress = hostPort('EXCHANGE_POP_HOST', `${ewsHost}:995`);
  const exchangeSmtpAddress = hostPort(
    'EXCHANGE_SMTP_HOST',
    `${ewsHost.startsWith('outlook') ? ewsHost.replace(/^outlook/, 'smtp') : `smtp.${ewsHost}`}:587`,
  );
  const keyVaultUrl = url(
    'KEY_VAULT_URL',
    required('KEY_VAULT_URL', 'the vault, e.g. https://my-broker.vault.azure.net'),
    { httpsOnly: true },
  );

  const storage = get('BROKER_STORAGE');
  const storageUri = get('BROKER_STORAGE__tableServiceUri');
  let tableStorage: TableStorageConfig = { kind: 'connectionString', connectionString: '' };
  if (storage && storageUri)
    problems.push('BROKER_STORAGE and BROKER_STORAGE__tableServiceUri are both set: set only one');
  else if (storage) {
    if (!/(AccountName|TableEndpoint|UseDevelopmentStorage)=/i.test(storage))
      problems.push(
        'BROKER_STORAGE must be a Table Storage connection string (AccountName=…;AccountKey=… or TableEndpoint=…)',
      );
    tableStorage = { kind: 'connectionString', connectionString: storage };
  } else if (storageUri) {
    tableStorage = {
      kind: 'tableServiceUri',
      tableServiceUri: url('BROKER_STORAGE__tableServiceUri', storageUri, { httpsOnly: true }),
    };
  } else
    problems.push(
      'BROKER_STORAGE (connection string) or BROKER_STORAGE__tableServiceUri (with managed identity) is not set',
    );

  // The broker's own identity: managed identity in Azure (AZURE_CLIENT_ID for a user-assigned one), or a
  // client secret in the standard @azure/identity variables where no managed identity exists.
  const azureSecret = get('AZURE_CLIENT_SECRET');
  let azureIdentity: AzureIdentityConfig;
  if (azureSecret) {
    azureIdentity = {
      kind: 'clientSecret',
      authorityHost: url('AZURE_AUTHORITY_HOST', get('AZURE_AUTHORITY_HOST') ?? entraAuthorityHost, {
        httpsOnly: true,
      }),
      tenantId: guid('AZURE_TENANT_ID', required('AZURE_TENANT_ID', 'needed with AZURE_CLIENT_SECRET')),
      clientId: guid('AZURE_CLIENT_ID', required('AZURE_CLIENT_ID', 'needed with AZURE_CLIENT_SECRET')),
      clientSecret: azureSecret,
    };
  } else {
    const clientId = get('AZURE_CLIENT_ID');
    azureIdentity = clientId
      ? { kind: 'managedIdentity', clientId: guid('AZURE_CLIENT_ID', clientId) }
      : { kind: 'managedIdentity' };
  }

  const vendorTenantId = guid(
    'VENDOR_TENANT_ID',
    required('VENDOR_TENANT_ID', "the vendor's own Entra tenant id, whose staff may call the support API"),
  );
  const supportApiAudience = get('SUPPORT_API_AUDIENCE') ?? `api://${homeAppClientId}`;

  const ttlText = get('BROKER_STATE_TTL_S') ?? '900';
  const stateTtlSeconds = Number(ttlText);
  if (!/^\d+$/.test(ttlText) || stateTtlSeconds < 60 || stateTtlSeconds > 86_400) {
    problems.push(
      `BROKER_STATE_TTL_S must be a whole number of seconds between 60 and 86400, got "${ttlText}"`,
    );
  }

  const vendorName = get('BROKER_VENDOR_NAME') ?? 'Your telephony vendor';
  if (vendorName.length > 100 || /[\p{Cc}]/u.test(vendorName)) {
    problems.push('BROKER_VENDOR_NAME must be at most 100 printable characters');
  }

  const privateTargets = (get('BROKER_WEBHOOK_PRIVATE_TARGETS') ?? 'false').toLowerCase();
  if (privateTargets !== 'true' && privateTargets !== 'false')
    problems.push(`BROKER_WEBHOOK_PRIVATE_TARGETS must be true or false, got "${privateTargets}"`);
  const enrollmentText = (get('BROKER_ENROLLMENT') ?? 'onboarded').toLowerCase();
  const enrollment = (['off', 'onboarded', 'open'] as const).find((v) => v === enrollmentText);
  if (!enrollment)
    problems.push(`BROKER_ENROLLMENT must be off, onboarded or open, got "${get('BROKER_ENROLLMENT')}"`);

  const telemetry = telemetryConfig(get, problems);
  if (cloudKnown)
    sameCloud(
      cloud,
      get('BROKER_CLOUD') !== undefined,
      [
        ['ENTRA_AUTHORITY_HOST', 'entra', get('ENTRA_AUTHORITY_HOST')],
        ['AZURE_AUTHORITY_HOST', 'entra', get('AZURE_AUTHORITY_HOST')],
        ['GRAPH_ENDPOINT', 'graph', get('GRAPH_ENDPOINT')],
        ['EXCHANGE_EWS_URL', 'ews', get('EXCHANGE_EWS_URL')],
        ['KEY_VAULT_URL', 'keyVault', get('KEY_VAULT_URL')],
        ['BROKER_STORAGE__tableServiceUri', 'storage', get('BROKER_STORAGE__tableServiceUri')],
      ],
      problems,
    );

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    cloud,
    publicUrl,
    homeAppClientId,
    homeAppCredential,
    bundleApps,
    entraAuthorityHost,
    graphEndpoint,
    exchangeEwsUrl,
    exchangeImapAddress,
    exchangePopAddress,
    exchangeSmtpAddress,
    keyVaultUrl,
    tableStorage,
    azureIdentity,
    vendorTenantId,
    supportApiAudience,
    profilesFile: get('BROKER_PROFILES_FILE'),
    stateTtlSeconds,
    vendorName,
    enrollment: enrollment ?? 'onboarded',
    webhookPrivateTargets: privateTargets === 'true',
    telemetry,
  });
}

/** `BROKER_CLOUD`, one of {@link CLOUD_NAMES} in any case; absent: the public cloud. */
function cloudSetting(value: string | undefined, problems: string[]): Cloud {
  if (value === undefined) return PUBLIC_CLOUD;
  const name = CLOUD_NAMES.find((n) => n.toLowerCase() === value.toLowerCase());
  if (name) return cloudNamed(name);
  problems.push(`BROKER_CLOUD must be one of ${CLOUD_NAMES.join(', ')}, got "${value}"`);
  return PUBLIC_CLOUD;
}

type CloudSetting = readonly [
  name: string,
  kind: Parameters<typeof cloudsOfEndpoint>[0],
  value: string | undefined,
];

/**
 * Refuses settings that point at another Microsoft cloud than BROKER_CLOUD: tokens of one cloud are refused by
 * every other ("apps reach only tenants in that cloud", https://learn.microsoft.com/graph/deployments), so such a
 * broker could never work. A host in no cloud's table (a stand-in, a proxy, a private endpoint) tells nothing and
 * passes. Each message names the setting, BROKER_CLOUD, and the explicit settings that agree with BROKER_CLOUD.
 */
function sameCloud(
  cloud: Cloud,
  cloudSet: boolean,
  settings: readonly CloudSetting[],
  problems: string[],
): void {
  const placed = settings.flatMap(([name, kind, value]) => {
    const clouds = value === undefined ? undefined : cloudsOfEndpoint(kind, value);
    return clouds ? [{ name, value: value!, clouds }] : [];
  });
  const agreeing = placed.filter((p) => p.clouds.includes(cloud.name));
  const as =
    agreeing.length === 0
      ? ''
      : `, as ${agreeing.map((p) => `${p.name} (${p.value})`).join(' and ')} ${agreeing.length > 1 ? 'are' : 'is'}`;
  for (const p of placed)
    if (!p.clouds.includes(cloud.name))
      problems.push(
        `${p.name} (${p.value}) is in ${p.clouds.join(' or ')}, but BROKER_CLOUD is ${cloud.name}${cloudSet ? '' : ' (its default)'}${as}: a broker serves one cloud; set BROKER_CLOUD=${p.clouds[0]!} or ${p.name} to a host of ${cloud.name}`,
      );
}

const CONNECTION_STRING_SHAPE = 'InstrumentationKey=<GUID>;IngestionEndpoint=https://…';

/**
 * `APPLICATIONINSIGHTS_CONNECTION_STRING` (optional): `Key=Value` pairs separated by `;`, with a GUID
 * `InstrumentationKey` and an https `IngestionEndpoint`
 * (https://learn.microsoft.com/azure/azure-monitor/app/connection-strings). The Azure Monitor exporter
 * discards a whole string with one malformed pair and then sends nothing, silently
 * (`npm:@azure/monitor-opentelemetry-exporter@1.0.0-beta.47:dist/esm/utils/connectionStringParser.js`), so a
 * typo stops the broker at start instead. The value itself is never echoed.
 */
function telemetryConfig(get: (name: string) => string | undefined, problems: string[]): TelemetryConfig {
  const name = 'APPLICATIONINSIGHTS_CONNECTION_STRING';
  const value = get(name);
  const samplerFromEnvironment = get('OTEL_TRACES_SAMPLER') !== undefined;
  if (value === undefined) return { applicationInsightsConnectionString: undefined, samplerFromEnvironment };
  const fields = new Map<string, string>();
  const wrong: string[] = [];
  for (const pair of value.split(';')) {
    if (pair.trim() === '') continue;
    const parts = pair.split('=');
    if (parts.length !== 2 || !parts[0]!.trim() || !parts[1]!.trim()) wrong.push('a part is not Key=Value');
    else fields.set(parts[0]!.trim().toLowerCase(), parts[1]!.trim());
  }
  const ikey = fields.get('instrumentationkey');
  if (ikey === undefined) wrong.push('InstrumentationKey is missing');
  else if (!GUID.test(ikey)) wrong.push('InstrumentationKey is not a GUID');
  for (const [key, label, required] of [
    ['ingestionendpoint', 'IngestionEndpoint', true],
    ['liveendpoint', 'LiveEndpoint', false],
  ] as const) {
    const endpoint = fields.get(key);
    if (endpoint === undefined) {
      if (required) wrong.push(`${label} is missing`);
    } else if (!/^https:\/\/[^/?#\s]+(\/[^?#\s]*)?$/i.test(endpoint))
      wrong.push(`${label} is not an https URL`);
  }
  if (wrong.length > 0)
    problems.push(
      `${name} must be an Application Insights connection string (${CONNECTION_STRING_SHAPE}, from the resource's Overview page): ${[...new Set(wrong)].join(', ')}`,
    );
  return { applicationInsightsConnectionString: value, samplerFromEnvironment };
}

/**
 * Only the telemetry settings, for functions/telemetry.ts, which starts the exporter before anything else is
 * loaded (and so before the rest of the settings are read). Throws ConfigError naming the setting.
 */
export function loadTelemetryConfig(env: Env): TelemetryConfig {
  const problems: string[] = [];
  const telemetry = telemetryConfig((name) => env[name]?.trim() || undefined, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(telemetry);
}

/** The settings of this process. */
export function loadConfigFromEnvironment(): Config {
  return loadConfig(process.env);
}

/** The telemetry settings of this process. */
export function loadTelemetryConfigFromEnvironment(): TelemetryConfig {
  return loadTelemetryConfig(process.env);
}
