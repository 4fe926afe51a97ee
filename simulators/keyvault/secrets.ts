/**
 * The secret operations of the Key Vault data plane on the World's vault, with wire shapes as
 * `@azure/keyvault-secrets` 4.12.0 reads them (FACTS.md §8.1–8.2; KV-NPM `models/models.js`): SecretBundle,
 * DeletedSecretBundle, SecretItem lists with `nextLink`, times in Unix seconds.
 * @module
 */
import type { World } from '../common/world.js';
import {
  badParameter,
  beingDeleted,
  beingRecovered,
  deletedButRecoverable,
  deletedSecretNotFound,
  invalidName,
  KeyVaultError,
  secretDisabled,
  secretNotFound,
} from './errors.js';
import {
  addVersion,
  DEFAULT_RECOVERY_DELAY_MS,
  type SimDeletedVaultSecret,
  type SimRecoveringVaultSecret,
  type SimVault,
  type SimVaultSecret,
  type SimVaultSecretVersion,
} from './vault-state.js';

/** Object names: 1–127 characters, 0-9, a-z, A-Z and `-` (about-keys-secrets-certificates.md, "Object identifiers"). */
const NAME = /^[0-9A-Za-z-]{1,127}$/;
/** "a maximum size of 25k bytes each" (MicrosoftDocs/azure-docs:articles/key-vault/secrets/about-secrets.md). */
export const MAX_VALUE_BYTES = 25 * 1024;
/** contentType: at most 255 characters; up to 15 tags of 256-character names and values (about-secrets.md). */
const MAX_CONTENT_TYPE = 255;
const MAX_TAGS = 15;
const MAX_TAG_LENGTH = 256;
/** Page size: Key Vault's `maxresults` is 1–25 (REST reference for Get Secrets; default here 25). */
const MAX_PAGE = 25;

export interface OpContext {
  readonly world: World;
  /** Base URL of the vault as ids name it, e.g. https://localhost:41234 (stands for https://{vault}.vault.azure.net). */
  readonly vaultUrl: string;
  readonly apiVersion: string;
}

export function assertName(name: string): void {
  if (!NAME.test(name)) throw invalidName(name);
}

function nowSeconds(world: World): number {
  return Math.floor(world.now() / 1000);
}

/**
 * Removes deleted secrets whose retention ended (Key Vault purges them itself at scheduledPurgeDate), and
 * makes live the secrets whose recovery has completed.
 */
export function sweep(world: World): void {
  const now = nowSeconds(world);
  for (const [key, d] of Object.entries(world.vault.deleted)) {
    if (d.scheduledPurgeDate <= now) delete world.vault.deleted[key];
  }
  const recovering = recoveringOf(world);
  for (const [key, r] of Object.entries(recovering)) {
    if (r.completesAt > world.now()) continue;
    delete recovering[key];
    world.vault.secrets[key] = r.secret;
  }
}

/** Secrets being recovered (a World persisted before recovery was modelled has none). */
function recoveringOf(world: World): Record<string, SimRecoveringVaultSecret> {
  return (world.vault.recovering ??= {});
}

/** The recovery in progress for `name`, if any. */
function beingRecoveredNow(world: World, name: string): SimRecoveringVaultSecret | undefined {
  const r = recoveringOf(world)[name.toLowerCase()];
  return r && r.completesAt > world.now() ? r : undefined;
}

/** DeletionRecoveryLevel values (KV-NPM `KnownDeletionRecoveryLevel`). */
function recoveryLevel(vault: SimVault): string {
  if (!vault.softDelete) return 'Purgeable';
  const custom = vault.recoverableDays < 90 ? 'Customized' : '';
  return vault.purgeProtection ? `${custom}Recoverable` : `${custom}Recoverable+Purgeable`;
}

function attributes(vault: SimVault, v: SimVaultSecretVersion): Record<string, unknown> {
  return {
    enabled: v.enabled,
    ...(v.nbf !== undefined ? { nbf: v.nbf } : {}),
    ...(v.exp !== undefined ? { exp: v.exp } : {}),
    created: v.created,
    updated: v.updated,
    ...(vault.softDelete ? { recoverableDays: vault.recoverableDays } : {}),
    recoveryLevel: recoveryLevel(vault),
  };
}

function metadata(v: SimVaultSecretVersion): Record<string, unknown> {
  return {
    ...(v.contentType !== undefined ? { contentType: v.contentType } : {}),
    ...(v.tags !== undefined ? { tags: v.tags } : {}),
  };
}

function bundle(
  op: OpContext,
  s: SimVaultSecret,
  v: SimVaultSecretVersion,
  withValue: boolean,
): Record<string, unknown> {
  return {
    ...(withValue ? { value: v.value } : {}),
    ...metadata(v),
    id: `${op.vaultUrl}/secrets/${s.name}/${v.version}`,
    attributes: attributes(op.world.vault, v),
  };
}

function deletedBundle(op: OpContext, d: SimDeletedVaultSecret): Record<string, unknown> {
  const latest = d.secret.versions.at(-1)!;
  return {
    recoveryId: `${op.vaultUrl}/deletedsecrets/${d.secret.name}`,
    deletedDate: d.deletedDate,
    scheduledPurgeDate: d.scheduledPurgeDate,
    ...bundle(op, d.secret, latest, false),
  };
}

/** A deleted secret whose deletion has completed; undefined when there is none. */
function completedDeletion(world: World, name: string): SimDeletedVaultSecret | undefined {
  const d = world.vault.deleted[name.toLowerCase()];
  if (!d) return undefined;
  if (d.completesAt > world.now()) throw beingDeleted(name);
  return d;
}

function liveSecret(world: World, name: string): SimVaultSecret {
  const key = name.toLowerCase();
  const s = world.vault.secrets[key];
  if (!s) throw secretNotFound(name);
  return s;
}

function findVersion(s: SimVaultSecret, name: string, version: string): SimVaultSecretVersion {
  if (!version) return s.versions.at(-1)!;
  const v = s.versions.find((x) => x.version === version.toLowerCase());
  if (!v) throw secretNotFound(`${name}/${version}`);
  return v;
}

// ---- request bodies -----------------------------------------------------------------------------------

type Json = Record<string, unknown>;

function parseBody(body: string): Json {
  let parsed: unknown;
  try {
    parsed = body ? JSON.parse(body) : {};
  } catch {
    // Message **unverified**.
    throw badParameter('The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw badParameter('The request body must be a JSON object.');
  return parsed as Json;
}

interface Properties {
  contentType?: string;
  tags?: Record<string, string>;
  enabled?: boolean;
  nbf?: number;
  exp?: number;
}

/** Validates `contentType`, `tags` and `attributes {enabled, nbf, exp}` (messages **unverified**). */
function parseProperties(b: Json): Properties {
  const out: Properties = {};
  if (b.contentType !== undefined && b.contentType !== null) {
    if (typeof b.contentType !== 'string' || b.contentType.length > MAX_CONTENT_TYPE)
      throw badParameter(`contentType must be a string of at most ${MAX_CONTENT_TYPE} characters.`);
    out.contentType = b.contentType;
  }
  if (b.tags !== undefined && b.tags !== null) {
    const tags = b.tags;
    if (typeof tags !== 'object' || Array.isArray(tags)) throw badParameter('tags must be an object.');
    const entries = Object.entries(tags as Json);
    if (entries.length > MAX_TAGS) throw badParameter(`A secret can have at most ${MAX_TAGS} tags.`);
    for (const [k, v] of entries) {
      if (typeof v !== 'string' || k.length > MAX_TAG_LENGTH || v.length > MAX_TAG_LENGTH)
        throw badParameter(`Tag names and values must be strings of at most ${MAX_TAG_LENGTH} characters.`);
    }
    out.tags = Object.fromEntries(entries) as Record<string, string>;
  }
  const a = b.attributes;
  if (a !== undefined && a !== null) {
    if (typeof a !== 'object' || Array.isArray(a)) throw badParameter('attributes must be an object.');
    const attrs = a as Json;
    if (attrs.enabled !== undefined && attrs.enabled !== null) {
      if (typeof attrs.enabled !== 'boolean') throw badParameter('attributes.enabled must be a boolean.');
      out.enabled = attrs.enabled;
    }
    for (const k of ['nbf', 'exp'] as const) {
      const v = attrs[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isInteger(v))
        throw badParameter(`attributes.${k} must be an IntDate.`);
      out[k] = v;
    }
  }
  return out;
}

// ---- operations ---------------------------------------------------------------------------------------

/** PUT /secrets/{name}: a new version each time (the SDK's setSecret doc comment). */
export function setSecret(op: OpContext, name: string, body: string): Json {
  const { world } = op;
  if (beingRecoveredNow(world, name)) throw beingRecovered(name);
  if (completedDeletion(world, name)) throw deletedButRecoverable(name);
  const b = parseBody(body);
  if (typeof b.value !== 'string') throw badParameter('The secret value is required.'); // message unverified
  // Message as quoted from a Key Vault client in https://github.com/Azure/azure-cli/issues/5639 (origin unverified).
  if (Buffer.byteLength(b.value, 'utf8') > MAX_VALUE_BYTES)
    throw badParameter(`Secret is beyond the maximum permitted length of ${MAX_VALUE_BYTES} characters.`);
  const props = parseProperties(b);
  const v = addVersion(world.vault, name, { value: b.value, ...props }, nowSeconds(world));
  return bundle(op, world.vault.secrets[name.toLowerCase()]!, v, true);
}

/**
 * GET /secrets/{name}/{version?}. Disabled versions answer 403 SecretDisabled; nbf/exp do not block a get
 * ("A secret's get operation will work for not-yet-valid and expired secrets", about-secrets.md).
 */
export function getSecret(op: OpContext, name: string, version: string): Json {
  const s = liveSecret(op.world, name);
  const v = findVersion(s, name, version);
  if (!v.enabled) throw secretDisabled();
  return bundle(op, s, v, true);
}

/** PATCH /secrets/{name}/{version?}: attributes not in the body are left unchanged; no value in the answer. */
export function updateSecret(op: OpContext, name: string, version: string, body: string): Json {
  const s = liveSecret(op.world, name);
  const v = findVersion(s, name, version);
  const props = parseProperties(parseBody(body));
  if (props.contentType !== undefined) v.contentType = props.contentType;
  if (props.tags !== undefined) v.tags = props.tags;
  if (props.enabled !== undefined) v.enabled = props.enabled;
  if (props.nbf !== undefined) v.nbf = props.nbf;
  if (props.exp !== undefined) v.exp = props.exp;
  v.updated = nowSeconds(op.world);
  return bundle(op, s, v, false);
}

/** DELETE /secrets/{name}: soft delete (DeletedSecretBundle), or removal when soft delete is off. */
export function deleteSecret(op: OpContext, name: string): Json {
  const { world } = op;
  const vault = world.vault;
  const s = liveSecret(world, name);
  const key = name.toLowerCase();
  delete vault.secrets[key];
  if (!vault.softDelete) return bundle(op, s, s.versions.at(-1)!, false);
  const now = nowSeconds(world);
  const d: SimDeletedVaultSecret = {
    secret: s,
    deletedDate: now,
    scheduledPurgeDate: now + vault.recoverableDays * 86_400,
    completesAt: world.now() + vault.deletionDelayMs,
  };
  vault.deleted[key] = d;
  return deletedBundle(op, d);
}

/** GET /deletedsecrets/{name}: 404 until the deletion has completed (the SDK's delete poller waits for this). */
export function getDeletedSecret(op: OpContext, name: string): Json {
  const d = op.world.vault.deleted[name.toLowerCase()];
  if (!d || d.completesAt > op.world.now()) throw deletedSecretNotFound(name);
  return deletedBundle(op, d);
}

/**
 * POST /deletedsecrets/{name}/recover → 200 with the SecretBundle of the latest version, no value ("200 OK: A
 * Secret bundle of the original secret", https://learn.microsoft.com/rest/api/keyvault/secrets/recover-deleted-secret;
 * the SDK expects exactly 200, `npm:@azure/keyvault-secrets@4.12.0:dist/esm/api/operations.js`
 * `_recoverDeletedSecretDeserialize`). The answer comes before the recovery is done: "Azure Key Vault will return
 * a SecretProperties immediately but may take time to actually recover the deleted secret"
 * (https://learn.microsoft.com/dotnet/api/azure.security.keyvault.secrets.recoverdeletedsecretoperation.value).
 * Until then GET /secrets/{name} answers 404 (the SDK's recover poller polls it until it stops answering 404,
 * `dist/esm/lro/recover/operation.js`) and a PUT 409 ObjectIsBeingRecovered; after `recoveryDelayMs` the secret
 * is live again with all its versions.
 */
export function recoverDeletedSecret(op: OpContext, name: string): Json {
  const { world } = op;
  if (beingRecoveredNow(world, name)) throw beingRecovered(name);
  const d = completedDeletion(world, name);
  if (!d) throw deletedSecretNotFound(name);
  const key = name.toLowerCase();
  delete world.vault.deleted[key];
  const delay = world.vault.recoveryDelayMs ?? DEFAULT_RECOVERY_DELAY_MS;
  if (delay > 0) recoveringOf(world)[key] = { secret: d.secret, completesAt: world.now() + delay };
  else world.vault.secrets[key] = d.secret;
  return bundle(op, d.secret, d.secret.versions.at(-1)!, false);
}

/**
 * DELETE /deletedsecrets/{name} → 204 (FACTS.md §8.1). With purge protection on, purge is refused until the
 * retention ends: "When purge protection is on, a vault or an object in the deleted state cannot be purged until
 * the retention period has passed" (https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview).
 * Status 403, code Forbidden and message as the live service answered (microsoft/AzureTRE#1951,
 * Azure/sap-automation#200).
 */
export function purgeDeletedSecret(op: OpContext, name: string): void {
  const { world } = op;
  const d = completedDeletion(world, name);
  if (!d) throw deletedSecretNotFound(name);
  if (world.vault.purgeProtection) {
    throw new KeyVaultError(
      403,
      'Forbidden',
      `Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.\r\nVault: ${world.vault.name};location=${world.vault.location}`,
    );
  }
  delete world.vault.deleted[name.toLowerCase()];
}

// ---- lists --------------------------------------------------------------------------------------------

interface SkipToken {
  NextMarker: string;
}

/**
 * One page of `items` (sorted by `marker`), with a `nextLink` carrying `$skiptoken` and `maxresults` as
 * Key Vault's does (`https://{vault}.vault.azure.net:443/secrets?api-version=…&$skiptoken=…&maxresults=…`),
 * or `nextLink: null` on the last page.
 */
function page<T>(
  op: OpContext,
  path: string,
  query: URLSearchParams,
  items: readonly T[],
  marker: (item: T) => string,
  render: (item: T) => Json,
): Json {
  const max = query.get('maxresults');
  let size = MAX_PAGE;
  if (max !== null) {
    size = Number(max);
    // Message **unverified**.
    if (!Number.isInteger(size) || size < 1 || size > MAX_PAGE)
      throw badParameter(`maxresults must be an integer between 1 and ${MAX_PAGE}.`);
  }
  let start = 0;
  const skip = query.get('$skiptoken');
  if (skip) {
    let after: string;
    try {
      after = (JSON.parse(Buffer.from(skip, 'base64url').toString('utf8')) as SkipToken).NextMarker;
    } catch {
      throw badParameter('The $skiptoken is invalid.');
    }
    if (typeof after !== 'string') throw badParameter('The $skiptoken is invalid.');
    start = items.findIndex((i) => marker(i) > after);
    if (start < 0) start = items.length;
  }
  const slice = items.slice(start, start + size);
  const more = start + size < items.length;
  let nextLink: string | null = null;
  if (more) {
    const token = Buffer.from(JSON.stringify({ NextMarker: marker(slice.at(-1)!) })).toString('base64url');
    // base64url needs no escaping; `$skiptoken` is sent as is, as Key Vault does.
    nextLink = `${op.vaultUrl}${path}?api-version=${encodeURIComponent(op.apiVersion)}&$skiptoken=${token}&maxresults=${size}`;
  }
  return { value: slice.map(render), nextLink };
}

/** GET /secrets: the current version's attributes, id without version, no value. */
export function listSecrets(op: OpContext, query: URLSearchParams): Json {
  const entries = Object.entries(op.world.vault.secrets).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return page(
    op,
    '/secrets',
    query,
    entries,
    ([key]) => key,
    ([, s]) => {
      const v = s.versions.at(-1)!;
      return {
        id: `${op.vaultUrl}/secrets/${s.name}`,
        attributes: attributes(op.world.vault, v),
        ...metadata(v),
      };
    },
  );
}

/** GET /secrets/{name}/versions: every version, ordered by version id (as Key Vault orders them). */
export function listVersions(op: OpContext, name: string, query: URLSearchParams): Json {
  const s = liveSecret(op.world, name);
  const versions = [...s.versions].sort((a, b) => (a.version < b.version ? -1 : 1));
  return page(
    op,
    `/secrets/${s.name}/versions`,
    query,
    versions,
    (v) => v.version,
    (v) => ({
      id: `${op.vaultUrl}/secrets/${s.name}/${v.version}`,
      attributes: attributes(op.world.vault, v),
      ...metadata(v),
    }),
  );
}

/** GET /deletedsecrets: completed deletions only. */
export function listDeletedSecrets(op: OpContext, query: URLSearchParams): Json {
  const now = op.world.now();
  const entries = Object.entries(op.world.vault.deleted)
    .filter(([, d]) => d.completesAt <= now)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return page(
    op,
    '/deletedsecrets',
    query,
    entries,
    ([key]) => key,
    ([, d]) => {
      const v = d.secret.versions.at(-1)!;
      return {
        recoveryId: `${op.vaultUrl}/deletedsecrets/${d.secret.name}`,
        deletedDate: d.deletedDate,
        scheduledPurgeDate: d.scheduledPurgeDate,
        id: `${op.vaultUrl}/secrets/${d.secret.name}`,
        attributes: attributes(op.world.vault, v),
        ...metadata(v),
      };
    },
  );
}
