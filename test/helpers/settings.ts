/** The broker's settings, for the tests that check or clear them. @module */

/**
 * The settings of SPEC.md "Settings" (`../shared/SPEC.md`, not present on the CI machine, hence a copy), one
 * name per table cell (`BROKER_STORAGE` or `BROKER_STORAGE__tableServiceUri` are two settings), plus those the
 * README's table adds: BROKER_VENDOR_NAME, BROKER_ENROLLMENT, EXCHANGE_EWS_URL, EXCHANGE_IMAP_HOST, EXCHANGE_POP_HOST,
 * EXCHANGE_SMTP_HOST and AZURE_CLIENT_ID, and
 * APPLICATIONINSIGHTS_CONNECTION_STRING, which src/config.ts reads for telemetry, BROKER_CLOUD (the cloud served) and
 * BROKER_WEBHOOK_PRIVATE_TARGETS (the sandbox's webhook receivers).
 */
export const SETTINGS = [
  'BROKER_PUBLIC_URL',
  'HOME_APP_CLIENT_ID',
  'HOME_APP_CLIENT_SECRET',
  'HOME_APP_CREDENTIAL_NAME',
  'ENTRA_AUTHORITY_HOST',
  'GRAPH_ENDPOINT',
  'EXCHANGE_EWS_URL',
  'EXCHANGE_IMAP_HOST',
  'EXCHANGE_POP_HOST',
  'EXCHANGE_SMTP_HOST',
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
  'BROKER_ENROLLMENT',
  'AZURE_CLIENT_ID',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'BROKER_CLOUD',
  'BROKER_WEBHOOK_PRIVATE_TARGETS',
] as const;

/**
 * Settings src/config.ts reads that are not in SETTINGS: the broker's own identity by client secret, the
 * standard @azure/identity names, only where no managed identity exists (README "Settings").
 */
export const IDENTITY_BY_SECRET = ['AZURE_TENANT_ID', 'AZURE_CLIENT_SECRET', 'AZURE_AUTHORITY_HOST'];

/**
 * OpenTelemetry's own settings that src/config.ts looks at, unset in infra/ (the broker's default applies):
 * `OTEL_TRACES_SAMPLER` hands the trace sampler to the SDK (README "Settings").
 */
export const OPENTELEMETRY_STANDARD = ['OTEL_TRACES_SAMPLER'];
