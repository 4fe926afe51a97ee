/**
 * Offboarding a tenant (SPEC.md `DELETE /api/tenants/{tenantId}`): its appliances are revoked, the secrets the
 * broker holds for it are deleted from Key Vault (and purged where the vault allows), cached tokens are dropped,
 * and the tenant stays as an `offboarded` tombstone with an audit record. A later consent of the same tenant
 * makes it active again.
 * @module
 */
import type { SecretStore } from '../adapters/keyvault/port.js';
import type { ApplianceStore } from '../appliances/appliance-store.js';
import { revokeAppliance, type RegistryDeps } from '../appliances/registry.js';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import type { TenantRecord, TenantStore } from './tenant-store.js';

/** The Key Vault secret that holds a tenant's own app credential ("bring your own app"), if it has one. */
export function tenantAppCredentialName(tenantId: string): string {
  return `tenant-app-${tenantId.toLowerCase()}`;
}

export interface OffboardDeps extends RegistryDeps {
  readonly tenants: TenantStore;
  readonly appliances: ApplianceStore;
  readonly secrets: SecretStore;
  readonly audit: AuditLog;
  readonly tokens: { forgetTenant(tenantId: string): void };
  readonly directory: { invalidate(kind: 'appliance' | 'tenant', id: string): void };
}

export async function offboardTenant(
  deps: OffboardDeps,
  tenant: TenantRecord,
  actor: AuditActor,
): Promise<TenantRecord> {
  let revoked = 0;
  let continuationToken: string | undefined;
  do {
    const page = await deps.appliances.list({ tenantId: tenant.tenantId, top: 100, continuationToken });
    for (const appliance of page.items) {
      // Already revoked ones too: revokeAppliance announces them again in the change journal.
      const wasRevoked = appliance.status === 'revoked';
      await revokeAppliance(deps, appliance, actor);
      deps.directory.invalidate('appliance', appliance.clientId);
      if (!wasRevoked) revoked++;
    }
    continuationToken = page.continuationToken;
  } while (continuationToken);

  await deps.secrets.delete(tenantAppCredentialName(tenant.tenantId));
  deps.tokens.forgetTenant(tenant.tenantId);
  const tombstone: TenantRecord = { ...tenant, status: 'offboarded', verification: null, lastError: null };
  await deps.tenants.replace(tombstone);
  deps.directory.invalidate('tenant', tenant.tenantId);
  await deps.audit.write({
    action: 'tenant.offboarded',
    tenantId: tenant.tenantId,
    actor,
    details: { appliancesRevoked: revoked, secretsDeleted: [tenantAppCredentialName(tenant.tenantId)] },
  });
  return tombstone;
}
