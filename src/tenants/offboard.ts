/**
 * The Key Vault secret of a tenant's own app credential ("bring your own app"): written by `PUT
 * …/app-credential` (src/credentials/tenant-app.ts), deleted on offboarding (src/offboarding/offboard-tenant.ts).
 * @module
 */

/** The Key Vault secret that holds a tenant's own app credential ("bring your own app"), if it has one. */
export function tenantAppCredentialName(tenantId: string): string {
  return `tenant-app-${tenantId.toLowerCase()}`;
}
