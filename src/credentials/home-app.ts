/**
 * The home app's credential (SPEC.md "home app"): a client secret given in HOME_APP_CLIENT_SECRET, or a Key
 * Vault secret named by HOME_APP_CREDENTIAL_NAME holding either a client secret or a certificate as PEM with
 * its private key (content type `application/x-pem-file`, FACTS.md §8.4). Read on first use, not at start,
 * so that a Key Vault outage at start does not stop the broker.
 * @module
 */
import { X509Certificate } from 'node:crypto';
import type { EntraCredential, MsalEntraConfig } from '../adapters/entra/msal.js';
import type { EntraTokens } from '../adapters/entra/port.js';
import type { AdminSignIn } from '../adapters/entra/sign-in.js';
import type { SecretStore } from '../adapters/keyvault/port.js';
import type { HomeAppCredentialSource } from '../config.js';

export class HomeAppCredentialInvalid extends Error {
  constructor(reason: string) {
    super(`The home app credential cannot be used: ${reason}`);
    this.name = 'HomeAppCredentialInvalid';
  }
}

/** Reads the credential from its source; never includes its value in an error. */
export async function readHomeAppCredential(
  source: HomeAppCredentialSource,
  secrets: SecretStore,
): Promise<EntraCredential> {
  if (source.kind === 'secret') return { kind: 'secret', secret: source.secret };
  const stored = await secrets.get(source.name);
  if (!stored)
    throw new HomeAppCredentialInvalid(
      `Key Vault has no secret named "${source.name}" (HOME_APP_CREDENTIAL_NAME)`,
    );
  if (stored.expiresOn && stored.expiresOn.getTime() <= Date.now()) {
    throw new HomeAppCredentialInvalid(
      `the Key Vault secret "${source.name}" expired on ${stored.expiresOn.toISOString()}`,
    );
  }
  const pem =
    stored.contentType === 'application/x-pem-file' || stored.value.includes('-----BEGIN CERTIFICATE-----');
  return pem ? certificateCredential(stored.value, source.name) : { kind: 'secret', secret: stored.value };
}

function certificateCredential(pem: string, name: string): EntraCredential {
  const key = /-----BEGIN PRIVATE KEY-----[\s\S]+?-----END PRIVATE KEY-----/.exec(pem)?.[0];
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (!key || !cert) {
    throw new HomeAppCredentialInvalid(
      `the Key Vault secret "${name}" is PEM but lacks a PKCS#8 private key or a certificate`,
    );
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    throw new HomeAppCredentialInvalid(`the certificate in the Key Vault secret "${name}" cannot be parsed`);
  }
  // MSAL sends the SHA-256 thumbprint as `x5t#S256` (FACTS.md §9; SHA-1 `thumbprint` is deprecated).
  return {
    kind: 'certificate',
    privateKeyPem: key,
    thumbprintSha256: x509.fingerprint256.replace(/:/g, '').toLowerCase(),
    x5c: cert,
  };
}

/**
 * The home app's Entra tokens, with the credential read on first use. A failed read (Key Vault down, secret
 * missing) is not remembered: the next request tries again.
 */
export function createHomeAppEntraTokens(options: HomeAppClientOptions<EntraTokens>): EntraTokens {
  const ready = lazyWithCredential(options);
  return {
    acquireAppToken: async (tenantId, scope, acquireOptions) =>
      (await ready()).acquireAppToken(tenantId, scope, acquireOptions),
  };
}

/** The admin sign-in of the consent flow, with the home app's credential read on first use. */
export function createHomeAppAdminSignIn(options: HomeAppClientOptions<AdminSignIn>): AdminSignIn {
  const ready = lazyWithCredential(options);
  return {
    authorizationUrl: async (request) => (await ready()).authorizationUrl(request),
    redeemCode: async (request) => (await ready()).redeemCode(request),
  };
}

interface HomeAppClientOptions<T> {
  readonly authorityHost: string;
  readonly clientId: string;
  readonly source: HomeAppCredentialSource;
  readonly secrets: SecretStore;
  readonly create: (config: MsalEntraConfig) => T;
}

function lazyWithCredential<T>(options: HomeAppClientOptions<T>): () => Promise<T> {
  let client: Promise<T> | undefined;
  return () => {
    client ??= readHomeAppCredential(options.source, options.secrets).then(
      (credential) =>
        options.create({ authorityHost: options.authorityHost, clientId: options.clientId, credential }),
      (err: unknown) => {
        client = undefined;
        throw err;
      },
    );
    return client;
  };
}
