/**
 * Offboarding a tenant (SPEC.md `DELETE /api/tenants/{tenantId}`): its appliances are revoked, its mailbox grants
 * and their links deleted (with the refresh tokens they kept), the secrets the broker holds for it are deleted
 * from Key Vault (and purged where the vault allows), cached tokens are dropped,
 * and the tenant stays as an `offboarded` tombstone (src/tenants/lifecycle.ts `offboarding`) with an audit
 * record. A later consent of the same tenant makes it active again (`consent-*`: re-onboarding).
 * @module
 */
import type { SecretStore } from '../adapters/keyvault/port.js';
import type { ApplianceStore } from '../appliances/appliance-store.js';
import { revokeAppliance, type RegistryDeps } from '../appliances/registry.js';
import type { AuditActor, AuditLog } from '../audit/audit-log.js';
import type { MailboxGrantStore } from '../grants/grant-store.js';
import { nextTenant } from '../tenants/lifecycle.js';
import { tenantAppCredentialName } from '../tenants/offboard.js';
import type { TenantRecord, TenantStore } from '../tenants/tenant-store.js';

export interface OffboardDeps extends RegistryDeps {
  readonly tenants: TenantStore;
  readonly appliances: ApplianceStore;
  readonly secrets: SecretStore;
  readonly mailboxGrants: Pick<MailboxGrantStore, 'deleteTenant'>;
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

  const grantsDeleted = await deps.mailboxGrants.deleteTenant(tenant.tenantId);
  await deps.secrets.delete(tenantAppCredentialName(tenant.tenantId));
  deps.tokens.forgetTenant(tenant.tenantId);
  const { next: tombstone, audit: action } = nextTenant(tenant, { kind: 'offboarding' }, deps.now());
  await deps.tenants.replace(tombstone);
  deps.directory.invalidate('tenant', tenant.tenantId);
  await deps.audit.write({
    action,
    tenantId: tenant.tenantId,
    actor,
    details: {
      appliancesRevoked: revoked,
      mailboxGrantsDeleted: grantsDeleted,
      secretsDeleted: [tenantAppCredentialName(tenant.tenantId)],
    },
  });
  return tombstone;
}
