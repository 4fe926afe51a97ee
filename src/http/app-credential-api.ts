/**
 * `PUT /api/tenants/{tenantId}/app-credential` and `DELETE` on the same path (SPEC.md, "bring your own app").
 * PUT stores the customer's own app credential in Key Vault, records `{clientId, expiresOn}` on the tenant
 * (creating the tenant if the broker did not know it: such customers consent to their own app, not through a
 * consent link) and proves at once what that app may do; DELETE goes back to the home app. The credential is
 * never returned.
 * @module
 */
import type { SecretStore } from '../adapters/keyvault/port.js';
import type { AuditLog } from '../audit/audit-log.js';
import { proveConsent, type ProofDeps } from '../consent/proof.js';
import {
  parseTenantAppCredential,
  storeTenantAppCredential,
  TenantAppCredentialInvalid,
} from '../credentials/tenant-app.js';
import { staffActor, type StaffPrincipal } from '../support/staff-auth.js';
import { nextTenant } from '../tenants/lifecycle.js';
import { tenantAppCredentialName } from '../tenants/offboard.js';
import { newTenantRecord, type TenantRecord, type TenantStore } from '../tenants/tenant-store.js';
import { readJsonBody } from './json-body.js';
import { badRequest, notFound, Problem } from './problem.js';
import { readPath } from './routes/path-parameters.js';
import { readQuery } from './routes/query.js';
import { tenantRoutes } from './routes/support.js';
import { tenantView } from './support-api.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';

export interface AppCredentialDeps extends ProofDeps {
  readonly secrets: SecretStore;
  readonly tenants: TenantStore;
  readonly audit: AuditLog;
  readonly tokens: { forgetTenant(tenantId: string): void };
  readonly directory: { invalidate(kind: 'appliance' | 'tenant', id: string): void };
  readonly now: () => Date;
}

export async function putAppCredential(
  deps: AppCredentialDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(tenantRoutes.setTenantAppCredential, request);
  const { tenantId } = readPath<{ tenantId: string }>(tenantRoutes.setTenantAppCredential, request);
  const body = await readJsonBody(request, 'AppCredentialRequest');
  let credential;
  try {
    credential = parseTenantAppCredential(body, deps.now());
  } catch (err) {
    if (err instanceof TenantAppCredentialInvalid) throw badRequest(err.message);
    throw err;
  }
  const existing = await deps.tenants.get(tenantId);
  // Only a new consent by the tenant's admin brings an offboarded tenant back (src/consent/flow.ts): checked
  // before anything is stored, so the refusal changes nothing.
  if (existing?.status === 'offboarded') throw offboarded(tenantId);
  await storeTenantAppCredential(deps.secrets, tenantId, credential);
  const appCredential = { clientId: credential.clientId, expiresOn: credential.expiresOn.toISOString() };
  const base: TenantRecord = existing
    ? { ...existing, appCredential }
    : { ...newTenantRecord(tenantId), profiles: [...deps.profiles.profiles.keys()], appCredential };
  await deps.tenants.save(base);
  forget(deps, tenantId);
  const actor = staffActor(staff);
  await deps.audit.write({ action: 'tenant.app_credential_set', tenantId, actor, details: appCredential });
  return jsonReply(200, tenantView(await reprove(deps, tenantId, 'pending')), {
    'cache-control': 'no-store',
  });
}

export async function deleteAppCredential(
  deps: AppCredentialDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(tenantRoutes.removeTenantAppCredential, request);
  const { tenantId } = readPath<{ tenantId: string }>(tenantRoutes.removeTenantAppCredential, request);
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw notFound(`No tenant ${tenantId} is known to the broker.`);
  if (tenant.status === 'offboarded') throw offboarded(tenantId);
  await deps.secrets.delete(tenantAppCredentialName(tenantId));
  await deps.tenants.replace({ ...tenant, appCredential: null });
  forget(deps, tenantId);
  await deps.audit.write({
    action: 'tenant.app_credential_removed',
    tenantId,
    actor: staffActor(staff),
    details: {},
  });
  return jsonReply(200, tenantView(await reprove(deps, tenantId, 'revoked')), {
    'cache-control': 'no-store',
  });
}

/** 409: a support call never moves an offboarded tenant (SPEC.md `DELETE /api/tenants/{tenantId}`). */
function offboarded(tenantId: string): Problem {
  return new Problem({
    status: 409,
    title: 'Conflict',
    detail: `Tenant ${tenantId} is offboarded: only a new consent by an administrator of the tenant makes it active again; its app credential can be set after that.`,
  });
}

function forget(deps: AppCredentialDeps, tenantId: string): void {
  deps.tokens.forgetTenant(tenantId);
  deps.directory.invalidate('tenant', tenantId);
}

/**
 * Proves what the credential now in use may do and records it (src/tenants/lifecycle.ts `credential-*`): after
 * a new credential a consent Entra does not show yet is `pending_verification`, after going back to the home
 * app it is `revoked`.
 */
async function reprove(
  deps: AppCredentialDeps,
  tenantId: string,
  whenConsentMissing: 'pending' | 'revoked',
): Promise<TenantRecord> {
  const tenant = (await deps.tenants.get(tenantId))!;
  // Offboarded meanwhile (a concurrent DELETE /api/tenants/{tenantId}): the tombstone stays as it is
  // (`credential-offboarded`), so it is not even proven.
  if (tenant.status === 'offboarded') return tenant;
  const now = deps.now();
  const proof = await proveConsent(deps, tenantId, tenant.profiles);
  const kind = whenConsentMissing === 'pending' ? 'credential_set' : 'credential_removed';
  const { next } = nextTenant(tenant, { kind, proof }, now);
  if (next === 'unchanged') return tenant;
  await deps.tenants.replace(next);
  deps.directory.invalidate('tenant', tenantId);
  return next;
}
