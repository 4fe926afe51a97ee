/**
 * The composition root: wires the production adapters into the domain from a Config. Creating a broker
 * does no network I/O, so a dependency that is down at start does not keep the broker from starting; each
 * request meets the outage and answers 503 instead.
 * @module
 */
import { createDataTablesStorage } from './adapters/tables/data-tables.js';
import type { TableStorage } from './adapters/tables/port.js';
import type { Config } from './config.js';
import { createHealthCheck, type HealthReport } from './health/health.js';
import { loadProfiles, type Profiles } from './profiles/profiles.js';
import { createStaffAuthenticator, type StaffAuthenticator } from './support/staff-auth.js';
import { createTenantStore, type TenantStore } from './tenants/tenant-store.js';

export interface Broker {
  readonly config: Config;
  readonly profiles: Profiles;
  readonly tables: TableStorage;
  readonly tenants: TenantStore;
  readonly staffAuth: StaffAuthenticator;
  readonly health: () => Promise<HealthReport>;
}

export async function createBroker(config: Config): Promise<Broker> {
  const profiles = await loadProfiles(config.profilesFile);
  const tables = createDataTablesStorage(config.tableStorage);
  const staffAuth = createStaffAuthenticator({
    authorityHost: config.entraAuthorityHost,
    vendorTenantId: config.vendorTenantId,
    audiences: [config.supportApiAudience, config.homeAppClientId],
  });
  const health = createHealthCheck([{ name: 'tableStorage', probe: () => tables.ping() }]);
  return { config, profiles, tables, tenants: createTenantStore(tables), staffAuth, health };
}
