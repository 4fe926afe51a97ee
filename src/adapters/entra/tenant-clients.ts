/**
 * The MSAL client of each tenant: one ConfidentialClientApplication per tenant authority
 * (`${authorityHost}/${tenantId}`; client credentials need a tenant-specific authority, FACTS.md §9), with
 * `knownAuthorities` and our network client (msal.ts explains both), kept in a bounded least-recently-used
 * map.
 * @module
 */
import { ConfidentialClientApplication, type Configuration } from '@azure/msal-node';
import { EntraNetwork, createEntraAgents } from './msal-network.js';
import type { BrokerMetrics } from '../telemetry/port.js';

export type EntraCredential =
  | { readonly kind: 'secret'; readonly secret: string }
  | {
      readonly kind: 'certificate';
      /** PKCS#8 PEM ("BEGIN PRIVATE KEY"), RSA: MSAL signs the assertion with PS256 (E-CERT). */
      readonly privateKeyPem: string;
      /** Hex SHA-256 thumbprint of the certificate DER; MSAL sends it as `x5t#S256`. */
      readonly thumbprintSha256: string;
      /** The certificate PEM, sent as `x5c` (subject-name/issuer auth). */
      readonly x5c?: string;
    };

export interface MsalEntraConfig {
  /** e.g. https://login.microsoftonline.com, a national cloud, or the sandbox simulator. */
  readonly authorityHost: string;
  readonly clientId: string;
  readonly credential: EntraCredential;
  /**
   * Tenants whose MSAL client (and token cache) is kept; least recently used ones are dropped. Default 20,000:
   * a client is small once used, while dropping one means the next token for that tenant also re-reads its
   * authority metadata from Entra, and that churn is what grew the process's memory (figures in
   * docs/performance.md, "MSAL clients per tenant").
   */
  readonly maxTenants?: number;
  /** Per-request timeout. Default 10 s. */
  readonly timeoutMs?: number;
  /**
   * Time one `acquireAppToken` may take, all its requests to Entra together. Default 4 s
   * (`APP_TOKEN_DEADLINE_MS`).
   */
  readonly deadlineMs?: number;
  /** Where each HTTP request to Entra is reported (duration, outcome, AADSTS code); none by default. */
  readonly metrics?: Pick<BrokerMetrics, 'entraRequest'>;
}

/** A tenant as a path segment: GUID or domain name (also `organizations` / `common`). */
export const TENANT_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

export interface TenantClient {
  readonly app: ConfidentialClientApplication;
  readonly network: EntraNetwork;
}

/**
 * One ConfidentialClientApplication per tenant authority, least recently used dropped beyond `maxTenants`.
 * Shared by the app-token adapter and the admin sign-in adapter (msal-sign-in.ts): same credential, same
 * network client, same authority rules.
 */
export function createTenantClients(config: MsalEntraConfig): (tenantId: string) => TenantClient {
  const host = config.authorityHost.replace(/\/+$/, '');
  const maxTenants = config.maxTenants ?? 20_000;
  const timeoutMs = config.timeoutMs ?? 10_000;
  const clients = new Map<string, TenantClient>();
  const agents = createEntraAgents();

  return function clientFor(tenantId: string): TenantClient {
    const key = tenantId.toLowerCase();
    const cached = clients.get(key);
    if (cached) {
      clients.delete(key); // re-insert: most recently used last
      clients.set(key, cached);
      return cached;
    }
    const authority = `${host}/${key}`;
    const network = new EntraNetwork(timeoutMs, config.metrics, agents);
    const credential = config.credential;
    const msalConfig: Configuration = {
      auth: {
        clientId: config.clientId,
        authority,
        knownAuthorities: [authority],
        ...(credential.kind === 'secret'
          ? { clientSecret: credential.secret }
          : {
              clientCertificate: {
                thumbprintSha256: credential.thumbprintSha256,
                privateKey: credential.privateKeyPem,
                ...(credential.x5c ? { x5c: credential.x5c } : {}),
              },
            }),
      },
      system: { networkClient: network, loggerOptions: { piiLoggingEnabled: false } },
    };
    const client = { app: new ConfidentialClientApplication(msalConfig), network };
    clients.set(key, client);
    while (clients.size > maxTenants) {
      const oldest = clients.keys().next().value;
      if (oldest === undefined) break;
      clients.delete(oldest);
    }
    return client;
  };
}
