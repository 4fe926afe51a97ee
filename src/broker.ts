/**
 * The composition root: wires the production adapters into the domain from a Config. Creating a broker
 * does no network I/O, so a dependency that is down at start does not keep the broker from starting; each
 * request meets the outage and answers 503 instead.
 * @module
 */
import { createAzureCredential } from './adapters/identity.js';
import { createKeyVaultSecretStore } from './adapters/keyvault/keyvault-secrets.js';
import type { SecretStore } from './adapters/keyvault/port.js';
import { createDataTablesStorage } from './adapters/tables/data-tables.js';
import type { TableStorage } from './adapters/tables/port.js';
import type { Config } from './config.js';
import { createHealthCheck, type DependencyProbe, type HealthReport } from './health/health.js';
import { loadProfiles, type Profiles } from './profiles/profiles.js';
import { createStaffAuthenticator, type StaffAuthenticator } from './support/staff-auth.js';
import { createTenantStore, type TenantStore } from './tenants/tenant-store.js';

export interface Broker {
  readonly config: Config;
  readonly profiles: Profiles;
  readonly tables: TableStorage;
  readonly secrets: SecretStore;
  readonly tenants: TenantStore;
  readonly staffAuth: StaffAuthenticator;
  readonly health: () => Promise<HealthReport>;
}

export async function createBroker(config: Config): Promise<Broker> {
  const profiles = await loadProfiles(config.profilesFile);
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
    vendorTenantId: config.vendorTenantId,
    audiences: [config.supportApiAudience, config.homeAppClientId],
  });
  const health = createHealthCheck([
    { name: 'tableStorage', probe: () => tables.ping() },
    keyVaultProbe(config, secrets),
  ]);
  return { config, profiles, tables, secrets, tenants: createTenantStore(tables), staffAuth, health };
}

/**
 * Key Vault is up when the broker can authenticate and read: where the home app's credential lives there,
 * it must exist (an operator who named a missing secret sees it here, not at the first consent).
 */
function keyVaultProbe(config: Config, secrets: SecretStore): DependencyProbe {
  const source = config.homeAppCredential;
  return {
    name: 'keyVault',
    probe: async () => {
      if (source.kind === 'keyVault') {
        if (!(await secrets.get(source.name))) throw new HomeAppCredentialMissing();
      } else {
        await secrets.get('broker-health-probe');
      }
    },
  };
}

class HomeAppCredentialMissing extends Error {
  constructor() {
    super('The Key Vault secret named by HOME_APP_CREDENTIAL_NAME does not exist.');
    this.name = 'HomeAppCredentialMissing';
  }
}
