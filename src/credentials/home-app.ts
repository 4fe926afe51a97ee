/**
 * The home app's credential (SPEC.md "home app"): a client secret given in HOME_APP_CLIENT_SECRET, or a Key
 * Vault secret named by HOME_APP_CREDENTIAL_NAME holding either a client secret or a certificate as PEM with
 * its private key (content type `application/x-pem-file`, FACTS.md §8.4). Read on first use, so that a Key
 * Vault outage at start does not stop the broker; at start it is read once, briefly, only to refuse a
 * credential that can never work ({@link assertHomeAppCredentialUsable}).
 *
 * A Key Vault *certificate* is read through its backing secret of the same name, whose content type is the
 * certificate policy's `secretProperties.contentType`: `application/x-pkcs12` (PFX, base64) or
 * `application/x-pem-file` (the PKCS#8 key and the certificates as PEM). PKCS#12 is what Key Vault assumes when
 * the policy names none: "Set to Pkcs12 when Cer contains your raw PKCS#12/PFX bytes, or to Pem when Cer contains
 * your ASCII PEM-encoded bytes. If not specified, Pkcs12 is assumed"
 * (https://learn.microsoft.com/dotnet/api/azure.security.keyvault.certificates.certificatepolicy.contenttype; the
 * two values as `CertificateContentType` of @azure/keyvault-certificates,
 * https://learn.microsoft.com/javascript/api/@azure/keyvault-certificates/certificatecontenttype). Node has no
 * PKCS#12 reader (node:crypto reads PEM and DER keys and X.509 certificates only), so a PKCS#12 credential is
 * refused with the fix, instead of being sent to Entra as if it were a client secret (AADSTS7000215).
 * @module
 */
import type { EntraCredential, MsalEntraConfig } from '../adapters/entra/tenant-clients.js';
import { EntraRefused, type EntraTokens } from '../adapters/entra/port.js';
import type { AdminSignIn } from '../adapters/entra/sign-in.js';
import type { SecretStore } from '../adapters/keyvault/port.js';
import type { HomeAppCredentialSource } from '../config.js';
import { parseCertificatePem } from './pem.js';

/**
 * Why the credential cannot be used: `missing` and `expired` may be mended in Key Vault while the broker runs;
 * `format` (PKCS#12, or PEM without its key or certificate) is a credential that can never work as it is.
 */
export type HomeAppCredentialProblem = 'missing' | 'expired' | 'format';

export class HomeAppCredentialInvalid extends Error {
  constructor(
    reason: string,
    readonly problem: HomeAppCredentialProblem = 'format',
  ) {
    super(`The home app credential cannot be used: ${reason}`);
    this.name = 'HomeAppCredentialInvalid';
  }
}

/** Key Vault's content types of a certificate's backing secret (see the module comment). */
export const PKCS12_CONTENT_TYPE = 'application/x-pkcs12';
export const PEM_CONTENT_TYPE = 'application/x-pem-file';

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
      `Key Vault has no secret named "${source.name}" (${settingOf(source)})`,
      'missing',
    );
  if (stored.expiresOn && stored.expiresOn.getTime() <= Date.now()) {
    throw new HomeAppCredentialInvalid(
      `the Key Vault secret "${source.name}" expired on ${stored.expiresOn.toISOString()}`,
      'expired',
    );
  }
  const contentType = mediaType(stored.contentType);
  if (
    contentType === PKCS12_CONTENT_TYPE ||
    (contentType !== PEM_CONTENT_TYPE && looksLikePkcs12(stored.value))
  )
    throw new HomeAppCredentialInvalid(
      pkcs12Refusal(source.name, settingOf(source), contentType === PKCS12_CONTENT_TYPE),
    );
  const pem = contentType === PEM_CONTENT_TYPE || stored.value.includes('-----BEGIN CERTIFICATE-----');
  const { credential, certificateEnds } = pem
    ? certificateCredential(stored.value, source.name, settingOf(source))
    : {
        credential: { kind: 'secret', secret: stored.value } satisfies EntraCredential,
        certificateEnds: undefined,
      };
  // The credential stops working at the earlier of the secret's expiry in Key Vault and the certificate's end.
  const ends = [stored.expiresOn, certificateEnds].filter((d): d is Date => d !== undefined);
  const expiresOn = ends.length ? new Date(Math.min(...ends.map((d) => d.getTime()))) : undefined;
  return { credential, version: stored.version, ...(expiresOn ? { expiresOn } : {}) };
}

/** `application/x-pkcs12; charset=…` → `application/x-pkcs12`; undefined when none is recorded. */
function mediaType(contentType: string | undefined): string | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  return type || undefined;
}

/**
 * A PFX given as a secret without its content type (e.g. `az keyvault secret set --file cert.pfx
 * --encoding base64`): base64 of a DER SEQUENCE whose first element is `version INTEGER 3` (RFC 7292 §4,
 * `PFX ::= SEQUENCE { version INTEGER {v3(3)}(v3,...), authSafe ContentInfo, macData MacData OPTIONAL }`).
 * A client secret Entra issues is not shaped like that.
 */
export function looksLikePkcs12(value: string): boolean {
  const text = value.trim();
  if (text.length < 16 || !/^[A-Za-z0-9+/\r\n]+={0,2}$/.test(text)) return false;
  const der = Buffer.from(text, 'base64');
  if (der[0] !== 0x30 || der[1] === undefined) return false;
  const at = der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
  return der[at] === 0x02 && der[at + 1] === 0x01 && der[at + 2] === 0x03;
}

/** The setting that named a Key Vault credential, for messages: the home app's unless it says otherwise. */
const settingOf = (source: { readonly setting?: string }): string =>
  source.setting ?? 'HOME_APP_CREDENTIAL_NAME';

function pkcs12Refusal(name: string, setting: string, typed: boolean): string {
  return (
    `the Key Vault secret "${name}" named by ${setting} holds a PKCS#12 (PFX) certificate` +
    `${typed ? ` (content type ${PKCS12_CONTENT_TYPE}, Key Vault's default for certificates)` : ''}, which the broker does not read. ` +
    `Import the certificate with content type ${PEM_CONTENT_TYPE} (its certificate policy's secretProperties.contentType, ` +
    `e.g. az keyvault certificate import --vault-name <vault> --name ${name} --file home-app.pem ` +
    `--policy '{"secretProperties":{"contentType":"${PEM_CONTENT_TYPE}"}}'), or store the PEM private key (PKCS#8) and ` +
    `certificate as a secret with content type ${PEM_CONTENT_TYPE}, and restart the broker.`
  );
}

function certificateCredential(
  pem: string,
  name: string,
  setting: string,
): { credential: EntraCredential; certificateEnds: Date } {
  const parsed = parseCertificatePem(pem);
  if (parsed === 'missing-blocks') {
    throw new HomeAppCredentialInvalid(
      `the Key Vault secret "${name}" (${setting}) is PEM but lacks a PKCS#8 private key ("BEGIN PRIVATE KEY") or a certificate; Key Vault exports both with content type ${PEM_CONTENT_TYPE}`,
    );
  }
  if (parsed === 'unparsable-certificate') {
    throw new HomeAppCredentialInvalid(
      `the certificate in the Key Vault secret "${name}" (${setting}) cannot be parsed`,
    );
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

/** How long the start-time check waits for Key Vault before it leaves the credential to its first use. */
export const START_CHECK_TIMEOUT_MS = 5_000;

/**
 * After start, in the background: finds a home app credential that can never work as it is (`format`: PKCS#12,
 * or PEM without its key or certificate) and returns the error that names HOME_APP_CREDENTIAL_NAME and the fix,
 * so that the operator sees it in the log at once rather than as Entra's AADSTS7000215 on the first consent.
 * Anything else — a missing or expired secret, Key Vault down, refusing or slower than `timeoutMs` — is not a
 * finding: the credential is read again on first use and `/api/health` reports it. Nothing waits for it: the
 * start does not hold the first request for a Key Vault read that the request makes anyway.
 */
export async function homeAppCredentialProblem(
  source: HomeAppCredentialSource,
  secrets: SecretStore,
  options: { readonly timeoutMs?: number } = {},
): Promise<HomeAppCredentialInvalid | undefined> {
  if (source.kind !== 'keyVault') return undefined;
  const read = loadHomeAppCredential(source, secrets).then(
    () => undefined,
    (err: unknown) => err,
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), options.timeoutMs ?? START_CHECK_TIMEOUT_MS);
    timer.unref();
  });
  const outcome = await Promise.race([read, timeout]).finally(() => clearTimeout(timer));
  return outcome instanceof HomeAppCredentialInvalid && outcome.problem === 'format' ? outcome : undefined;
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
    redeemGrantCode: async (request) => (await lazy.get()).redeemGrantCode(request),
    redeemRefreshToken: async (request) => (await lazy.get()).redeemRefreshToken(request),
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
