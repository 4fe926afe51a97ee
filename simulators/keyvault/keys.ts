/**
 * The key operations of the Key Vault data plane that envelope encryption needs, with wire shapes as
 * `@azure/keyvault-keys` 4.10 reads them (KeyBundle `{key: JsonWebKey, attributes}`, KeyOperationResult
 * `{kid, value}`, base64url values: https://learn.microsoft.com/rest/api/keyvault/keys/wrap-key/wrap-key,
 * .../unwrap-key/unwrap-key, .../get-key/get-key, .../create-key/create-key):
 * - `POST /keys/{name}/create` {kty: RSA, key_size?, key_ops?}: a new RSA key or a new version of it;
 * - `GET /keys/{name}/[{version}]`: the public key (the private part never leaves Key Vault);
 * - `POST /keys/{name}/{version}/wrapkey` and `/unwrapkey` {alg, value}: RSA-OAEP, RSA-OAEP-256 or RSA1_5
 *   ("Supported algorithms: RSA1_5, RSA-OAEP, RSA-OAEP-256", about-keys-details.md), with the key's private
 *   part for unwrap. The SDK wraps RSA-OAEP locally with the public key and unwraps remotely
 *   (`npm:@azure/keyvault-keys@4.10.2:dist/esm/cryptography/rsaCryptographyProvider.js`: "Unwrapping a key using
 *   a local JsonWebKey is not supported").
 * Keys live in the World's vault as JWK (a simulator keeps what the service keeps), by lowercased name.
 * @module
 */
import {
  constants,
  createPrivateKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto';
import type { World } from '../common/world.js';
import { badParameter, KeyVaultError } from './errors.js';
import type { OpContext } from './secrets.js';
import type { SimVault } from './vault-state.js';

/** Key permissions of an access policy (about-keys-details.md, "Key access control"), those the simulator serves. */
export type KeyPermission = 'get' | 'create' | 'wrapKey' | 'unwrapKey';

export interface SimVaultKeyVersion {
  readonly version: string;
  /** The RSA private key as a JWK. */
  readonly jwk: { readonly kty: 'RSA'; readonly n: string; readonly e: string; readonly d: string } & Record<
    string,
    string
  >;
  readonly keyOps: readonly string[];
  enabled: boolean;
  readonly created: number;
  updated: number;
}

export interface SimVaultKey {
  readonly name: string;
  /** Oldest first; the last one is the current version. */
  versions: SimVaultKeyVersion[];
}

const ALGORITHMS = ['RSA-OAEP', 'RSA-OAEP-256', 'RSA1_5'] as const;
const DEFAULT_KEY_OPS = ['encrypt', 'decrypt', 'sign', 'verify', 'wrapKey', 'unwrapKey'];

const keysOf = (vault: SimVault): Record<string, SimVaultKey> => (vault.keys ??= {});

/** Adds a new version of RSA key `name` (2048 bits unless said) and returns it: for the routes and for seeding. */
export function addKeyVersion(
  world: World,
  name: string,
  keySize = 2048,
  keyOps = DEFAULT_KEY_OPS,
): SimVaultKeyVersion {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: keySize });
  const jwk = privateKey.export({ format: 'jwk' }) as SimVaultKeyVersion['jwk'];
  const now = Math.floor(world.now() / 1000);
  const version: SimVaultKeyVersion = {
    version: randomBytes(16).toString('hex'),
    jwk,
    keyOps: [...keyOps],
    enabled: true,
    created: now,
    updated: now,
  };
  const keys = keysOf(world.vault);
  const key = (keys[name.toLowerCase()] ??= { name, versions: [] });
  key.versions.push(version);
  return version;
}

/** The sandbox's key for envelope encryption, as infra/ creates it: made once, kept across restarts. */
export function seedVaultKey(world: World, name: string): void {
  if (!keysOf(world.vault)[name.toLowerCase()]) addKeyVersion(world, name);
}

function keyNotFound(name: string, version: string): KeyVaultError {
  // "A key with (name/id) {name}/{version} was not found in this key vault." as the live service words its
  // secret counterpart (errors.ts secretNotFound); the key wording is **unverified**.
  return new KeyVaultError(
    404,
    'KeyNotFound',
    `A key with (name/id) ${name}${version ? `/${version}` : ''} was not found in this key vault. If you recently deleted this key you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );
}

function findVersion(op: OpContext, name: string, version: string): SimVaultKeyVersion {
  const key = keysOf(op.world.vault)[name.toLowerCase()];
  const found = version ? key?.versions.find((v) => v.version === version) : key?.versions.at(-1);
  if (!key || !found) throw keyNotFound(name, version);
  return found;
}

function bundle(op: OpContext, name: string, v: SimVaultKeyVersion): Record<string, unknown> {
  return {
    key: {
      kid: `${op.vaultUrl}/keys/${name}/${v.version}`,
      kty: 'RSA',
      key_ops: v.keyOps,
      n: v.jwk.n,
      e: v.jwk.e,
    },
    attributes: {
      enabled: v.enabled,
      created: v.created,
      updated: v.updated,
      recoveryLevel: op.world.vault.purgeProtection ? 'Recoverable' : 'Recoverable+Purgeable',
      recoverableDays: op.world.vault.recoverableDays,
    },
  };
}

function parseBody(body: string): Record<string, unknown> {
  try {
    const parsed = JSON.parse(body || '{}') as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
      return parsed as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw badParameter('The request body is not valid JSON.');
}

export function createKey(op: OpContext, name: string, body: string): Record<string, unknown> {
  const b = parseBody(body);
  if (b.kty !== 'RSA')
    // This simulator makes RSA keys only (what wrapKey needs); Key Vault also makes EC and oct-HSM keys.
    throw badParameter(`The key type ${JSON.stringify(b.kty)} is not supported here: use RSA.`);
  const size = b.key_size === undefined ? 2048 : Number(b.key_size);
  if (![2048, 3072, 4096].includes(size)) throw badParameter('key_size must be 2048, 3072 or 4096 for RSA.');
  const ops = Array.isArray(b.key_ops) ? b.key_ops.map(String) : DEFAULT_KEY_OPS;
  const version = addKeyVersion(op.world, name, size, ops);
  return bundle(op, keysOf(op.world.vault)[name.toLowerCase()]!.name, version);
}

export function getKey(op: OpContext, name: string, version: string): Record<string, unknown> {
  const v = findVersion(op, name, version);
  return bundle(op, keysOf(op.world.vault)[name.toLowerCase()]!.name, v);
}

function cryptoArgs(
  op: OpContext,
  name: string,
  version: string,
  body: string,
  operation: 'wrapKey' | 'unwrapKey',
) {
  const v = findVersion(op, name, version);
  if (!v.enabled)
    throw new KeyVaultError(403, 'Forbidden', 'Operation is not allowed on a disabled key.', 'KeyDisabled');
  if (!v.keyOps.includes(operation))
    // Message for an operation the key's key_ops leave out: **unverified**.
    throw new KeyVaultError(
      403,
      'Forbidden',
      `Operation ${operation} is not allowed on this key.`,
      'KeyOperationForbidden',
    );
  const b = parseBody(body);
  const alg = String(b.alg ?? '');
  if (!(ALGORITHMS as readonly string[]).includes(alg))
    throw badParameter(`Invalid algorithm ${JSON.stringify(b.alg)}: use one of ${ALGORITHMS.join(', ')}.`);
  if (typeof b.value !== 'string' || !/^[A-Za-z0-9_-]*$/.test(b.value))
    throw badParameter('value must be a base64url string.');
  const padding =
    alg === 'RSA1_5'
      ? { padding: constants.RSA_PKCS1_PADDING }
      : { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: alg === 'RSA-OAEP-256' ? 'sha256' : 'sha1' };
  const key = createPrivateKey({ key: v.jwk, format: 'jwk' });
  return {
    v,
    key,
    padding,
    value: Buffer.from(b.value, 'base64url'),
    kid: `${op.vaultUrl}/keys/${name}/${v.version}`,
  };
}

export function wrapKey(op: OpContext, name: string, version: string, body: string): Record<string, unknown> {
  const { key, padding, value, kid } = cryptoArgs(op, name, version, body, 'wrapKey');
  return { kid, value: publicEncrypt({ key, ...padding }, value).toString('base64url') };
}

export function unwrapKey(
  op: OpContext,
  name: string,
  version: string,
  body: string,
): Record<string, unknown> {
  const { key, padding, value, kid } = cryptoArgs(op, name, version, body, 'unwrapKey');
  try {
    return { kid, value: privateDecrypt({ key, ...padding }, value).toString('base64url') };
  } catch {
    // A value this key did not wrap: Key Vault answers 400 BadParameter (the exact message is **unverified**).
    throw badParameter('The parameter value is invalid: it could not be unwrapped with this key.');
  }
}
