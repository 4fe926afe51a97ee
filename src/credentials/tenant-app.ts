/**
 * "Bring your own app" (SPEC.md `PUT /api/tenants/{tenantId}/app-credential`, the model of the OpenScape and
 * Sinch guides): a customer's own app registration used instead of the home app for that tenant. Its
 * credential (a client secret, or a certificate PEM with its private key) is kept in Key Vault only, as
 * `tenant-app-{tenantId}`, and never returned; the tenant record shows `{clientId, expiresOn}`.
 *
 * Token acquisition routes per tenant: the tenant's own app when it has one, the home app otherwise.
 * @module
 */
import type { EntraCredential, MsalEntraConfig } from '../adapters/entra/tenant-clients.js';
import type { EntraTokens } from '../adapters/entra/port.js';
import type { SecretStore } from '../adapters/keyvault/port.js';
import { tenantAppCredentialName } from '../tenants/offboard.js';
import { parseCertificatePem } from './pem.js';
import type { TenantRecord } from '../tenants/tenant-store.js';

export class TenantAppCredentialInvalid extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TenantAppCredentialInvalid';
  }
}

export interface TenantAppCredential {
  readonly clientId: string;
  readonly expiresOn: Date;
  readonly credential: EntraCredential;
}

/** A customer's app credential as its request gives it, its shape already checked (AppCredentialRequest). */
export interface TenantAppCredentialInput {
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly certificate?: string;
  readonly expiresOn: string;
}

/**
 * What the request's schema cannot say (src/http/openapi/request-schemas.ts `AppCredentialRequest` says the
 * rest): `expiresOn` a real date in the future, the certificate PEM a certificate with its private key. The
 * messages never echo the credential.
 */
export function parseTenantAppCredential(input: TenantAppCredentialInput, now: Date): TenantAppCredential {
  const { clientId, clientSecret, certificate, expiresOn } = input;
  if (Number.isNaN(Date.parse(expiresOn)) || !/^\d{4}-\d{2}-\d{2}/.test(expiresOn)) {
    throw new TenantAppCredentialInvalid(
      'expiresOn must be an ISO 8601 date-time, e.g. 2027-11-24T00:00:00Z.',
    );
  }
  const expires = new Date(expiresOn);
  if (expires.getTime() <= now.getTime())
    throw new TenantAppCredentialInvalid('expiresOn is in the past: that credential no longer works.');
  if (clientSecret !== undefined) {
    return {
      clientId: clientId.toLowerCase(),
      expiresOn: expires,
      credential: { kind: 'secret', secret: clientSecret },
    };
  }
  return {
    clientId: clientId.toLowerCase(),
    expiresOn: expires,
    credential: certificateFromPem(certificate ?? ''),
  };
}

function certificateFromPem(pem: string): EntraCredential {
  const parsed = parseCertificatePem(pem);
  if (parsed === 'missing-blocks') {
    throw new TenantAppCredentialInvalid(
      'certificate must hold a "BEGIN CERTIFICATE" block and a PKCS#8 "BEGIN PRIVATE KEY" block.',
    );
  }
  if (parsed === 'unparsable-certificate')
    throw new TenantAppCredentialInvalid('certificate: the certificate block cannot be parsed.');
  return {
    kind: 'certificate',
    privateKeyPem: parsed.privateKeyPem,
    thumbprintSha256: parsed.thumbprintSha256,
    x5c: parsed.certificatePem,
  };
}

/** Stores it in Key Vault (JSON, never returned by any route). */
export async function storeTenantAppCredential(
  secrets: SecretStore,
  tenantId: string,
  c: TenantAppCredential,
): Promise<void> {
  await secrets.set(
    tenantAppCredentialName(tenantId),
    JSON.stringify({ clientId: c.clientId, credential: c.credential }),
    {
      contentType: 'application/json',
      expiresOn: c.expiresOn,
    },
  );
}

/**
 * EntraTokens that use a tenant's own app where it has one. Called only on the cold path (the token cache sits
 * in front), so a tenant-record read here costs nothing on the warm path. Clients are kept per tenant and
 * credential version, so a replaced credential is used at once.
 */
export function createTenantRoutingEntra(options: {
  readonly home: EntraTokens;
  readonly authorityHost: string;
  readonly secrets: SecretStore;
  readonly tenant: (tenantId: string) => Promise<TenantRecord | undefined>;
  readonly create: (config: MsalEntraConfig) => EntraTokens;
}): EntraTokens {
  const clients = new Map<string, { version: string; tokens: EntraTokens }>();
  return {
    async acquireAppToken(tenantId, scope, acquireOptions) {
      const record = await options.tenant(tenantId);
      if (!record?.appCredential) return options.home.acquireAppToken(tenantId, scope, acquireOptions);
      const stored = await options.secrets.get(tenantAppCredentialName(tenantId));
      if (!stored) return options.home.acquireAppToken(tenantId, scope, acquireOptions);
      let entry = clients.get(tenantId);
      if (!entry || entry.version !== stored.version) {
        const { clientId, credential } = JSON.parse(stored.value) as {
          clientId: string;
          credential: EntraCredential;
        };
        entry = {
          version: stored.version,
          tokens: options.create({ authorityHost: options.authorityHost, clientId, credential }),
        };
        clients.set(tenantId, entry);
        if (clients.size > 10_000) clients.delete(clients.keys().next().value!);
      }
      return entry.tokens.acquireAppToken(tenantId, scope, acquireOptions);
    },
  };
}
