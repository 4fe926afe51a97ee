/**
 * The composition root: wires the production adapters into the domain from a Config. Creating a broker
 * needs no dependency to be up and reads nothing over the network, so one that is down at start does not keep
 * the broker from starting; each request meets the outage and answers 503 instead. A home app credential in
 * Key Vault that can never work is looked for after start, in the background (`appCredentialProblem`).
 * @module
 */
import { createMsalEntraTokens } from './adapters/entra/msal.js';
import { EntraRefused, type EntraTokens } from './adapters/entra/port.js';
import { createMsalAdminSignIn } from './adapters/entra/msal-sign-in.js';
import { codeChallengeFor, type AdminSignIn } from './adapters/entra/sign-in.js';
import { createEwsClient } from './adapters/exchange/ews.js';
import type { ExchangeWebServices, MailProtocols } from './adapters/exchange/port.js';
import { createMailProbes } from './adapters/exchange/mail-probe.js';
import { createGraphDirectory } from './adapters/graph/graph-client.js';
import type { Directory } from './adapters/graph/port.js';
import { createAzureCredential } from './adapters/identity.js';
import { createKeyVaultSecretStore } from './adapters/keyvault/keyvault-secrets.js';
import type { SecretStore } from './adapters/keyvault/port.js';
import { createDataTablesStorage } from './adapters/tables/data-tables.js';
import type { TableStorage } from './adapters/tables/port.js';
import { createOtelMetrics } from './adapters/telemetry/otel-metrics.js';
import type { BrokerMetrics } from './adapters/telemetry/port.js';
import type { Config } from './config.js';
import { createRecordDirectory, type RecordDirectory } from './directory/record-directory.js';
import { createApplianceStore, type ApplianceStore } from './appliances/appliance-store.js';
import { createUsageRecorder, type UsageRecorder } from './appliances/usage.js';
import { createUsageHours, type UsageHours } from './appliances/usage-hours.js';
import {
  createChangeJournal,
  journaledApplianceStore,
  journaledGrantStore,
  journaledTenantStore,
} from './directory/change-journal.js';
import { countingConsentOutcomes, createAuditLog, type AuditLog } from './audit/audit-log.js';
import { createOnboardingStore, type OnboardingStore } from './consent/onboarding-store.js';
import { createMailboxGrantStore, type MailboxGrantStore } from './grants/grant-store.js';
import { createCustody, GRANTS_KEY_NAME, type Custody } from './grants/custody.js';
import { grantTokenSource, type GrantTokenDeps } from './grants/grant-tokens.js';
import { createUserCodeThrottle } from './grants/device-verification.js';
import { createDevicePolls, type DevicePolls } from './vending/device-code.js';
import { createKeyVaultKeyWrapping } from './adapters/keyvault/keyvault-keys.js';
import { createStateStore, type StateStore } from './consent/state-store.js';
import {
  createHomeAppAdminSignIn,
  createHomeAppEntraTokens,
  homeAppCredentialProblem,
} from './credentials/home-app.js';
import { createTenantRoutingEntra } from './credentials/tenant-app.js';
import { createConsoleSessions, type ConsoleSessions } from './console/sessions.js';
import { createHttpsWebhookSender, type WebhookSender } from './adapters/webhooks/https-sender.js';
import { createWebhookStore, type WebhookStore } from './webhooks/store.js';
import type { TargetPolicy } from './webhooks/target.js';
import { notifyingAuditLog, notifyingTenantStore, webhookEmitter } from './webhooks/webhooks.js';
import {
  bundleApps,
  bundleCredentials,
  routeEntraByApp,
  routeSignInByApp,
  type BundleApps,
} from './credentials/bundle-apps.js';
import { createTokenCaches, type TokenCaches } from './vending/token-caches.js';
import {
  BundleCredentialExpiringSoon,
  checkHomeAppCredentialExpiry,
  expiringBundleCredentials,
} from './credentials/expiry.js';
import { createBrokerKeys, type BrokerKeys } from './keys/broker-keys.js';
import { keyVaultProbe } from './health/key-vault-probe.js';
import { createHealthCheck, type HealthReport } from './health/health.js';
import { loadProfiles, type Profiles } from './profiles/profiles.js';
import { createStaffAuthenticator, type StaffAuthenticator } from './support/staff-auth.js';
import { applyProof } from './tenants/consent-watch.js';
import { REPLICATION_CODES } from './tenants/lifecycle.js';
import { RECHECKED_STATUSES } from './tenants/transitions.js';
import { createTenantStore, type TenantStore } from './tenants/tenant-store.js';
import { proveConsent, type ProofResult } from './consent/proof.js';
import { createTokenCache } from './vending/token-cache.js';
import { createEnrollmentStore, type EnrollmentStore } from './appliances/enrollment-store.js';
import { createEnrollmentThrottle } from './appliances/enrollment.js';
import type { TokenCache } from './vending/token-cache-contract.js';
import { createAuthThrottle, type AuthThrottle } from './vending/auth-throttle.js';
import type { OpenIdConfigurationDeps } from './http/openid-configuration.js';
import { createVerifiedCredentials, type VerifiedCredentials } from './vending/warm-path.js';
import { createJtiStore, type JtiStore } from './vending/jti-store.js';
import { GRAPH_APP_ID } from './ids.js';

export interface Broker {
  readonly config: Config;
  readonly profiles: Profiles;
  readonly tables: TableStorage;
  readonly secrets: SecretStore;
  /** App-only tokens of the home app, per customer tenant. */
  readonly entra: EntraTokens;
  /** Microsoft Graph, read with the home app's app-only token of each tenant. */
  readonly graph: Directory;
  /** Exchange Web Services, for the support check's live EWS probe (the caller passes the token). */
  readonly ews: ExchangeWebServices;
  /** Exchange Online's IMAP, POP and SMTP logins: a shared mailbox's proof, the protocol checks. */
  readonly mail: MailProtocols;
  readonly tenants: TenantStore;
  readonly onboardings: OnboardingStore;
  /** Users' delegated access to their mailboxes, per appliance (src/grants/grant-store.ts). */
  readonly mailboxGrants: MailboxGrantStore;
  /** Users' access tokens per (grant, scope), fetched once and refreshed ahead as app-only ones are. */
  readonly grantTokens: TokenCache;
  /** What redeems a grant's kept sign-in now, without the cache: the support check's (src/support/checks-grants.ts). */
  readonly grantSignIns: GrantTokenDeps;
  /** Device-code polls seen by this instance, for RFC 8628 `slow_down` (src/vending/device-code.ts). */
  readonly devicePolls: DevicePolls;
  /** Unknown user codes entered per address on the device and enrollment pages (src/grants/device-verification.ts). */
  readonly userCodes: AuthThrottle;
  /** Zero-touch enrollments (src/appliances/enrollment.ts), and how many each address asked for. */
  readonly enrollments: EnrollmentStore;
  readonly enrollThrottle: AuthThrottle;
  /** Seals the refresh tokens the grants keep, under the broker's Key Vault key (src/grants/custody.ts). */
  readonly custody: Custody;
  readonly states: StateStore;
  /** The support console's signed-in staff (src/console/sessions.ts). */
  readonly sessions: ConsoleSessions;
  /** Tokens issued per hour, for the console's chart (src/appliances/usage-hours.ts). */
  readonly usageHours: UsageHours;
  /** Webhook endpoints and their delivery queue (src/webhooks/). */
  readonly webhooks: WebhookStore;
  readonly webhookPolicy: TargetPolicy;
  readonly webhookSender: WebhookSender;
  readonly audit: AuditLog;
  readonly keys: BrokerKeys;
  readonly settings: {
    readonly cloud: Config['cloud'];
    readonly publicUrl: string;
    readonly entraAuthorityHost: string;
    readonly homeAppClientId: string;
    readonly stateTtlSeconds: number;
    readonly enrollment: Config['enrollment'];
    /** VENDOR_TENANT_ID: whose staff sign in to the support console. */
    readonly vendorTenantId: string;
  };
  readonly now: () => Date;
  /** The admin's OpenID Connect sign-in after a consent, with the home app's credential. */
  readonly signIn: AdminSignIn;
  readonly codeChallengeFor: (verifier: string) => string;
  readonly vendorName: string;
  readonly appliances: ApplianceStore;
  /** Appliances and tenants from memory for the token endpoint (revocations seen within 60 s). */
  readonly directory: RecordDirectory;
  /** Microsoft tokens from memory, fetched once per (app, tenant, resource) and refreshed ahead of expiry. */
  readonly tokens: TokenCaches;
  /** The bundles' apps (src/credentials/bundle-apps.ts): the home app's first. */
  readonly apps: BundleApps;
  readonly jtis: JtiStore;
  readonly throttle: AuthThrottle;
  /** Basic credentials verified before, in memory (src/vending/warm-path.ts). */
  readonly verified: VerifiedCredentials;
  /** Token counts per appliance, flushed in the background. */
  readonly usage: UsageRecorder;
  readonly recordUsage: (clientId: string, tenantId: string) => void;
  readonly usageCounter: (clientId: string, tenantId: string) => () => void;
  /** Accepted `aud` of client assertions: the token endpoint URL and the issuer (SPEC.md). */
  readonly audiences: readonly string[];
  readonly staffAuth: StaffAuthenticator;
  readonly health: () => Promise<HealthReport>;
  /** Tokens vended, token cache, Entra requests, consent outcomes (docs/decisions.md "Observability"). */
  readonly metrics: BrokerMetrics;
  /** A fresh proof of a tenant's consent (src/consent/proof.ts), for the re-check timer in src/tenants/. */
  readonly proveTenant: (tenantId: string, profiles: readonly string[]) => Promise<ProofResult>;
  /** What the OpenID configuration of a tenant needs (src/http/openid-configuration.ts). */
  readonly openIdConfiguration: OpenIdConfigurationDeps;
  /**
   * An app credential in Key Vault that can never work (PKCS#12, PEM without its key): the home app's, else the
   * first of the other bundles' apps', as an error naming its setting (HOME_APP_CREDENTIAL_NAME,
   * BUNDLE_<NAME>_CREDENTIAL_NAME) and the fix; undefined otherwise. For the app's start, which logs it without
   * waiting (functions/runtime.ts).
   */
  readonly appCredentialProblem: () => Promise<Error | undefined>;
}

export async function createBroker(config: Config): Promise<Broker> {
  const profiles = await loadProfiles(config.profilesFile, config.cloud);
  // The global MeterProvider's meter: Azure Monitor's once functions/telemetry.ts started it, else a no-op.
  const metrics = createOtelMetrics();
  const credential = createAzureCredential(config.azureIdentity);
  const tables = createDataTablesStorage(config.tableStorage, credential);
  // Bounded: a Key Vault outage turns into a 503 within seconds rather than a hanging request.
  const secrets = createKeyVaultSecretStore({
    vaultUrl: config.keyVaultUrl,
    credential,
    retry: { maxRetries: 2, retryDelayInMs: 200, maxRetryDelayInMs: 2_000 },
    operationTimeoutMs: 10_000,
  });
  const staffAuth = createStaffAuthenticator({
    authorityHost: config.entraAuthorityHost,
    issuers: config.cloud,
    vendorTenantId: config.vendorTenantId,
    audiences: [config.supportApiAudience, config.homeAppClientId],
  });
  // Every change to a tenant or an appliance is journaled, so that all instances drop their cached copies.
  const journal = createChangeJournal(tables);
  const rawTenants = createTenantStore(tables);
  // Webhook events (src/webhooks/webhooks.ts) from the writes and audit entries that are events; the queue is
  // the broker's own, bound once it exists (below).
  const events = webhookEmitter();
  const tenants = notifyingTenantStore(journaledTenantStore(rawTenants, journal), events.emit, events.failed);
  // Each bundle's app (the home app first), or a tenant's own app where it brought one
  // (src/credentials/bundle-apps.ts, src/credentials/tenant-app.ts).
  const apps = bundleApps(profiles, config);
  const entra = createTenantRoutingEntra({
    home: routeEntraByApp(
      new Map(
        apps.all.map((app) => [
          app.clientId,
          createHomeAppEntraTokens({
            authorityHost: config.entraAuthorityHost,
            clientId: app.clientId,
            source: app.credential,
            secrets,
            create: (c) => createMsalEntraTokens({ ...c, metrics }),
          }),
        ]),
      ),
      apps.home.clientId,
    ),
    authorityHost: config.entraAuthorityHost,
    secrets,
    tenant: (tenantId) => tenants.get(tenantId),
    create: (c) => createMsalEntraTokens({ ...c, metrics }),
  });
  const signIn = routeSignInByApp(
    new Map(
      apps.all.map((app) => [
        app.clientId,
        createHomeAppAdminSignIn({
          authorityHost: config.entraAuthorityHost,
          clientId: app.clientId,
          source: app.credential,
          secrets,
          create: (c) => createMsalAdminSignIn({ ...c, issuers: config.cloud, metrics }),
        }),
      ]),
    ),
    apps.home.clientId,
  );
  // The token's audience is Graph's resource URI from the profiles, else the cloud's (e.g.
  // https://graph.microsoft.us), even where GRAPH_ENDPOINT names another host that serves it.
  const graphScope =
    [...profiles.resources.values()].find((r) => r.appId === GRAPH_APP_ID)?.scope ??
    config.cloud.resourceScopes('graph').scope;
  const graph = createGraphDirectory({
    graphEndpoint: config.graphEndpoint,
    // Any bundle's app will do (each lists Organization.Read.All): the home app's first, then those of a tenant
    // that consented to other bundles only.
    accessToken: async (tenantId) => {
      let refused: unknown;
      for (const app of apps.all) {
        try {
          return (await entra.acquireAppToken(tenantId, graphScope, { app: app.clientId })).accessToken;
        } catch (err) {
          if (!(err instanceof EntraRefused)) throw err;
          refused = err;
        }
      }
      throw refused;
    },
  });
  const rawAppliances = createApplianceStore(tables);
  const appliances = journaledApplianceStore(rawAppliances, journal);
  const audit = notifyingAuditLog(
    countingConsentOutcomes(createAuditLog(tables), metrics),
    events.emit,
    events.failed,
  );
  // Usage counters change nothing the token endpoint caches: written past the journal.
  const usageHours = createUsageHours(tables);
  const usage = createUsageRecorder({
    appliances: rawAppliances,
    tenants: rawTenants,
    audit,
    hours: usageHours,
  });
  const health = createHealthCheck([
    { name: 'tableStorage', probe: () => tables.ping() },
    keyVaultProbe(apps, secrets),
    { name: 'entra', probe: () => staffAuth.probe() },
    // Down when the home app's credential ends within 30 days: someone must rotate it before tokens stop.
    {
      name: 'homeAppCredential',
      probe: () =>
        checkHomeAppCredentialExpiry({
          secrets,
          homeAppCredential: config.homeAppCredential,
          now: () => new Date(),
        }),
    },
    // The same for each other bundle's app (src/credentials/bundle-apps.ts), named in the error.
    ...(apps.all.length > 1
      ? [
          {
            name: 'bundleAppCredentials',
            probe: async () => {
              const ending = await expiringBundleCredentials({
                secrets,
                bundleCredentials: bundleCredentials(apps),
                now: () => new Date(),
              });
              if (ending.length) throw new BundleCredentialExpiringSoon(ending);
            },
          },
        ]
      : []),
  ]);
  // A background refresh that Entra refuses because the consent is gone: re-prove the tenant now rather
  // than at its next scheduled check, so that its appliances learn the cause at once.
  // Only a tenant the re-checks look at: an offboarded one (its refresh raced the offboarding) or one still
  // being verified is left to its own process (src/tenants/transitions.ts).
  const reprove = async (tenantId: string) => {
    const tenant = await tenants.get(tenantId);
    if (tenant && RECHECKED_STATUSES.includes(tenant.status))
      await applyProof(broker, tenant, await proveConsent(broker, tenantId, tenant.profiles), {
        kind: 'system',
        id: 'broker',
      });
  };
  const tokens = createTokenCaches(
    apps.all.map((a) => a.clientId),
    entra,
    (appEntra) =>
      createTokenCache({
        entra: appEntra,
        onRefreshRefused: (tenantId, _scope, err) => {
          if (err.aadsts && REPLICATION_CODES.has(err.aadsts)) reprove(tenantId).catch(() => undefined);
        },
      }),
  );
  metrics.observeTokenCache(() => tokens.stats());
  const custody = createCustody(
    createKeyVaultKeyWrapping({ vaultUrl: config.keyVaultUrl, keyName: GRANTS_KEY_NAME, credential }),
  );
  // A grant written here is dropped from this instance's memory at once (others: through the journal), and
  // the tokens of one that can no longer be used are forgotten.
  const mailboxGrants = journaledGrantStore(createMailboxGrantStore(tables), journal, (key, grant) => {
    directory.invalidate('grant', key);
    if (grant?.status !== 'active') grantTokens.forgetTenant(key);
  });
  const directory = createRecordDirectory({ appliances, tenants, grants: mailboxGrants }, { journal });
  const grantSignIns: GrantTokenDeps = {
    grants: mailboxGrants,
    custody,
    signIn,
    profiles,
    apps,
    audit,
    now: () => new Date(),
  };
  const grantTokens = createTokenCache({ entra: grantTokenSource(grantSignIns) });
  const broker: Broker = {
    config,
    profiles,
    tables,
    secrets,
    entra,
    graph,
    ews: createEwsClient({ url: config.exchangeEwsUrl }),
    mail: createMailProbes({
      addresses: {
        imap: config.exchangeImapAddress,
        pop: config.exchangePopAddress,
        smtp: config.exchangeSmtpAddress,
      },
    }),
    tenants,
    appliances,
    directory,
    tokens,
    apps,
    jtis: createJtiStore(tables),
    throttle: createAuthThrottle(),
    verified: createVerifiedCredentials(),
    usage,
    recordUsage: (clientId, tenantId) => usage.record(clientId, tenantId),
    usageCounter: (clientId, tenantId) => usage.counter(clientId, tenantId),
    audiences: [`${config.publicUrl}/oauth2/token`, config.publicUrl],
    onboardings: createOnboardingStore(tables),
    mailboxGrants,
    grantTokens,
    grantSignIns,
    devicePolls: createDevicePolls(),
    userCodes: createUserCodeThrottle(),
    enrollments: createEnrollmentStore(tables),
    enrollThrottle: createEnrollmentThrottle(),
    custody,
    states: createStateStore(tables),
    sessions: createConsoleSessions(tables),
    usageHours,
    webhooks: createWebhookStore(tables),
    webhookPolicy: { allowPrivate: config.webhookPrivateTargets },
    webhookSender: createHttpsWebhookSender({ allowPrivate: config.webhookPrivateTargets }),
    audit,
    keys: createBrokerKeys(secrets, async () => (await rawAppliances.list({ top: 1 })).items.length > 0),
    settings: {
      cloud: config.cloud,
      publicUrl: config.publicUrl,
      entraAuthorityHost: config.entraAuthorityHost,
      homeAppClientId: config.homeAppClientId,
      stateTtlSeconds: config.stateTtlSeconds,
      enrollment: config.enrollment,
      vendorTenantId: config.vendorTenantId,
    },
    now: () => new Date(),
    signIn,
    codeChallengeFor,
    vendorName: config.vendorName,
    staffAuth,
    health,
    metrics,
    proveTenant: (tenantId, tenantProfiles) => proveConsent(broker, tenantId, tenantProfiles),
    openIdConfiguration: {
      publicUrl: config.publicUrl,
      entraAuthorityHost: config.entraAuthorityHost,
      profiles,
      tenantById: (tenantId) => directory.tenant(tenantId),
      tenantByDomain: async (domain) => (await tenants.list({ domain, top: 1 })).items[0],
    },
    appCredentialProblem: async () =>
      (await Promise.all(apps.all.map((a) => homeAppCredentialProblem(a.credential, secrets)))).find(
        (p) => p !== undefined,
      ),
  };
  events.bind(broker);
  return broker;
}
