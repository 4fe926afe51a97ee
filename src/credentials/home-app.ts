/**
 * The home app's credential (SPEC.md "home app"): a client secret given in HOME_APP_CLIENT_SECRET, or a Key
 * Vault secret named by HOME_APP_CREDENTIAL_NAME holding either a client secret or a certificate as PEM with
 * its private key (content type `application/x-pem-file`, FACTS.md §8.4). Read on first use, not at start,
 * so that a Key Vault outage at start does not stop the broker.
 * @module
 */
import type { EntraCredential, MsalEntraConfig } from '../adapters/entra/msal.js';
import { EntraRefused, type EntraTokens } from '../adapters/entra/port.js';
import type { AdminSignIn } from '../adapters/entra/sign-in.js';
import type { SecretStore } from '../adapters/keyvault/port.js';
import type { HomeAppCredentialSource } from '../config.js';
import { parseCertificatePem } from './pem.js';

export class HomeAppCredentialInvalid extends Error {
  constructor(reason: string) {
    super(`The home app credential cannot be used: ${reason}`);
    this.name = 'HomeAppCredentialInvalid';
  }
}

/** A credential as read, with the Key Vault version it came from (`setting` for HOME_APP_CLIENT_SECRET). */
export interface LoadedCredential {
  readonly credential: EntraCredential;
  readonly version: string;
  readonly expiresOn?: Date;
}

/** Reads the credential from its source; never includes its value in an error. */
export async function readHomeAppCredential(
  source: HomeAppCredentialSource,
  secrets: SecretStore,
): Promise<EntraCredential> {
  return (await loadHomeAppCredential(source, secrets)).credential;
}

export async function loadHomeAppCredential(
  source: HomeAppCredentialSource,
  secrets: SecretStore,
): Promise<LoadedCredential> {
  if (source.kind === 'secret')
    return { credential: { kind: 'secret', secret: source.secret }, version: 'setting' };
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
  const { credential, certificateEnds } = pem
    ? certificateCredential(stored.value, source.name)
    : {
        credential: { kind: 'secret', secret: stored.value } satisfies EntraCredential,
        certificateEnds: undefined,
      };
  // The credential stops working at the earlier of the secret's expiry in Key Vault and the certificate's end.
  const ends = [stored.expiresOn, certificateEnds].filter((d): d is Date => d !== undefined);
  const expiresOn = ends.length ? new Date(Math.min(...ends.map((d) => d.getTime()))) : undefined;
  return { credential, version: stored.version, ...(expiresOn ? { expiresOn } : {}) };
}

function certificateCredential(
  pem: string,
  name: string,
): { credential: EntraCredential; certificateEnds: Date } {
  const parsed = parseCertificatePem(pem);
  if (parsed === 'missing-blocks') {
    throw new HomeAppCredentialInvalid(
      `the Key Vault secret "${name}" is PEM but lacks a PKCS#8 private key or a certificate`,
    );
  }
  if (parsed === 'unparsable-certificate') {
    throw new HomeAppCredentialInvalid(`the certificate in the Key Vault secret "${name}" cannot be parsed`);
  }
  return {
    credential: {
      kind: 'certificate',
      privateKeyPem: parsed.privateKeyPem,
      thumbprintSha256: parsed.thumbprintSha256,
      x5c: parsed.certificatePem,
    },
    certificateEnds: parsed.validTo,
  };
}

/**
 * The home app's Entra tokens, with the credential read on first use. A failed read (Key Vault down, secret
 * missing) is not remembered: the next request tries again.
 */
export function createHomeAppEntraTokens(options: HomeAppClientOptions<EntraTokens>): EntraTokens {
  const lazy = lazyWithCredential(options);
  return {
    async acquireAppToken(tenantId, scope, acquireOptions) {
      const client = await lazy.get();
      try {
        return await client.acquireAppToken(tenantId, scope, acquireOptions);
      } catch (err) {
        // Entra says the credential is wrong or expired: it may have just been rotated in Key Vault.
        if (
          !(err instanceof EntraRefused) ||
          !CREDENTIAL_CODES.has(err.aadsts ?? '') ||
          options.source.kind !== 'keyVault'
        )
          throw err;
        const reloaded = await lazy.reload();
        if (reloaded === client) throw err;
        return reloaded.acquireAppToken(tenantId, scope, acquireOptions);
      }
    },
  };
}

/** AADSTS7000215 invalid secret, 7000222 expired secret, 700027 bad certificate signature (FACTS.md §3). */
const CREDENTIAL_CODES = new Set(['7000215', '7000222', '700027']);

/** The admin sign-in of the consent flow, with the home app's credential read on first use. */
export function createHomeAppAdminSignIn(options: HomeAppClientOptions<AdminSignIn>): AdminSignIn {
  const lazy = lazyWithCredential(options);
  return {
    authorizationUrl: async (request) => (await lazy.get()).authorizationUrl(request),
    redeemCode: async (request) => (await lazy.get()).redeemCode(request),
  };
}

interface HomeAppClientOptions<T> {
  readonly authorityHost: string;
  readonly clientId: string;
  readonly source: HomeAppCredentialSource;
  readonly secrets: SecretStore;
  readonly create: (config: MsalEntraConfig) => T;
  readonly now?: () => number;
}

/**
 * A credential kept in Key Vault is read again at most every CREDENTIAL_REFRESH_SECONDS, behind the requests:
 * when an operator rotates it (a new version of the secret), the broker uses the new one from then on, with no
 * restart. One given in HOME_APP_CLIENT_SECRET changes only with the app setting (which restarts the app).
 */
export const CREDENTIAL_REFRESH_SECONDS = 300;

interface LazyClient<T> {
  get(): Promise<T>;
  /** Reads the credential now; resolves to the client in use afterwards (a new one if it changed). */
  reload(): Promise<T>;
}

function lazyWithCredential<T>(options: HomeAppClientOptions<T>): LazyClient<T> {
  const now = options.now ?? Date.now;
  let current: { client: T; version: string; readAt: number } | undefined;
  let loading: Promise<{ client: T }> | undefined;
  const load = () => {
    loading ??= loadHomeAppCredential(options.source, options.secrets).then(
      (loaded) => {
        loading = undefined;
        if (!current || current.version !== loaded.version) {
          const client = options.create({
            authorityHost: options.authorityHost,
            clientId: options.clientId,
            credential: loaded.credential,
          });
          current = { client, version: loaded.version, readAt: now() };
        } else current.readAt = now();
        return current;
      },
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    );
    return loading;
  };
  return {
    async get() {
      if (!current) return (await load()).client;
      if (options.source.kind === 'keyVault' && now() - current.readAt >= CREDENTIAL_REFRESH_SECONDS * 1000) {
        // Behind the request: a Key Vault hiccup must not fail token requests while the current credential works.
        load().catch(() => undefined);
      }
      return current.client;
    },
    async reload() {
      return (await load()).client;
    },
  };
}
