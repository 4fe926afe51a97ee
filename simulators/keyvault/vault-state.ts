/**
 * The simulated vault's state, kept in the World as plain JSON-serialisable data so that the World can be
 * persisted: the vault's tenant and access policies, its soft-delete settings, and every secret with all
 * of its versions, live or soft-deleted. Functions here are the only writers of that state besides the
 * Key Vault simulator's routes, and a launcher uses `seedVaultSecret` to put the home app's credential in
 * the vault at start.
 * @module
 */
import { randomBytes } from 'node:crypto';
import { SANDBOX_IDS } from '../sandbox.js';
import type { KeyPermission, SimVaultKey } from './keys.js';

/** Secret permissions of a Key Vault access policy (MicrosoftDocs/azure-docs:articles/key-vault/secrets/about-secrets.md). */
export type SecretPermission = 'get' | 'list' | 'set' | 'delete' | 'recover' | 'backup' | 'restore' | 'purge';

export const ALL_SECRET_PERMISSIONS: readonly SecretPermission[] = [
  'get',
  'list',
  'set',
  'delete',
  'recover',
  'backup',
  'restore',
  'purge',
];

/** The broker identity's key permissions: Key Vault Crypto User's data actions that envelope encryption uses. */
export const BROKER_KEY_PERMISSIONS: readonly KeyPermission[] = ['get', 'wrapKey', 'unwrapKey'];

/** One access-policy entry: a principal (by service principal object id and/or application id) in a tenant. */
export interface SimVaultAccessPolicy {
  readonly tenantId: string;
  /** The principal's object id (the `oid` claim). */
  readonly objectId?: string;
  /** The client application id (`appid` in v1 tokens, `azp` in v2). */
  readonly applicationId?: string;
  readonly permissions: SecretPermission[];
  /** Key permissions (keys.ts); absent: none, as in a World saved before keys were modelled. */
  readonly keyPermissions?: KeyPermission[];
}

export interface SimVaultSecretVersion {
  /** 32 lowercase hex characters, as Key Vault's version ids are. */
  readonly version: string;
  /** Secret text: kept here only because this is a simulator of the service that stores it. */
  readonly value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  /** Unix seconds. */
  nbf?: number;
  /** Unix seconds. */
  exp?: number;
  readonly created: number;
  updated: number;
}

export interface SimVaultSecret {
  /** The name as first set; Key Vault object names are case-insensitive. */
  readonly name: string;
  /** Oldest first; the last one is the current version. */
  versions: SimVaultSecretVersion[];
}

export interface SimDeletedVaultSecret {
  readonly secret: SimVaultSecret;
  /** Unix seconds. */
  readonly deletedDate: number;
  /** Unix seconds. */
  readonly scheduledPurgeDate: number;
  /** Until this time (ms) the deletion is still in progress: the name is neither live nor listed as deleted. */
  readonly completesAt: number;
}

/**
 * A deleted secret being recovered. Key Vault answers the recover call at once and recovers in the background
 * ("Azure Key Vault will return a SecretProperties immediately but may take time to actually recover the deleted
 * secret if soft-delete is enabled":
 * https://learn.microsoft.com/dotnet/api/azure.security.keyvault.secrets.recoverdeletedsecretoperation.value);
 * meanwhile the name is neither live nor deleted.
 */
export interface SimRecoveringVaultSecret {
  readonly secret: SimVaultSecret;
  /** Time (ms) at which the secret is live again. */
  readonly completesAt: number;
}

export interface SimVault {
  /** Vault name, used in error messages (`{name};location={location}`). */
  name: string;
  location: string;
  /** The tenant the vault belongs to: its challenge names it, and tokens must come from it. */
  tenantId: string;
  accessPolicies: SimVaultAccessPolicy[];
  /** Soft delete on (the default for every vault since 2020; FACTS.md §8.4). */
  softDelete: boolean;
  /**
   * Purge protection: deleted secrets can only be recovered or wait out their retention. On by default, as the
   * deployed vault has it (infra/app/keyvault.bicep `enablePurgeProtection: true`): "When purge protection is on,
   * a vault or an object in the deleted state cannot be purged until the retention period has passed"
   * (https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview#purge-protection).
   */
  purgeProtection: boolean;
  /** Retention of deleted secrets, 7–90 days (default 90). */
  recoverableDays: number;
  /** How long a delete stays "in progress" (ms); Key Vault deletes asynchronously. Default 0. */
  deletionDelayMs: number;
  /**
   * How long a recovery stays in progress (ms): Key Vault recovers asynchronously (SimRecoveringVaultSecret).
   * Default `DEFAULT_RECOVERY_DELAY_MS`: short, but long enough that a client which does not wait sees it.
   */
  recoveryDelayMs: number;
  /** Live secrets by lowercased name. */
  secrets: Record<string, SimVaultSecret>;
  /** Soft-deleted secrets by lowercased name. */
  deleted: Record<string, SimDeletedVaultSecret>;
  /** Secrets being recovered, by lowercased name (absent in a World persisted before recovery was modelled). */
  recovering?: Record<string, SimRecoveringVaultSecret>;
  /** Keys by lowercased name (keys.ts; absent in a World persisted before keys were modelled). */
  keys?: Record<string, SimVaultKey>;
}

/** Default `recoveryDelayMs`. */
export const DEFAULT_RECOVERY_DELAY_MS = 150;

type VaultSettings = Partial<Omit<SimVault, 'secrets' | 'deleted' | 'recovering' | 'keys'>>;

/**
 * A fresh vault. Without options it is the sandbox vendor's vault: in the vendor tenant, and readable and
 * writable by the broker's own identity (which stands for its managed identity), as an operator would set
 * up the production vault.
 */
export function createVaultState(init: VaultSettings = {}): SimVault {
  const tenantId = (init.tenantId ?? SANDBOX_IDS.vendorTenantId).toLowerCase();
  return {
    name: init.name ?? 'consent-broker-vault',
    location: init.location ?? 'sandbox',
    tenantId,
    accessPolicies: init.accessPolicies ?? [
      {
        tenantId,
        applicationId: SANDBOX_IDS.brokerIdentityAppId,
        permissions: [...ALL_SECRET_PERMISSIONS],
        // What infra/ gives the broker's identity on keys: Key Vault Crypto User (get, wrapKey, unwrapKey).
        keyPermissions: [...BROKER_KEY_PERMISSIONS],
      },
    ],
    softDelete: init.softDelete ?? true,
    purgeProtection: init.purgeProtection ?? true,
    recoverableDays: init.recoverableDays ?? 90,
    deletionDelayMs: init.deletionDelayMs ?? 0,
    recoveryDelayMs: init.recoveryDelayMs ?? DEFAULT_RECOVERY_DELAY_MS,
    secrets: {},
    deleted: {},
    recovering: {},
  };
}

/** Changes the vault's settings (tenant, access policies, soft delete …); secrets are kept. */
export function configureVault(world: { vault: SimVault }, settings: VaultSettings): SimVault {
  const { secrets, deleted, recovering = {}, keys = {} } = world.vault;
  world.vault = { ...createVaultState({ ...world.vault, ...settings }), secrets, deleted, recovering, keys };
  return world.vault;
}

export function newVersionId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * Adds a new version of a secret, as a PUT would. Used by the simulator's set operation and by launchers
 * (e.g. to place the home app's client secret in the sandbox vault at start). A name in deleted state (or being
 * recovered) is dropped first when seeding, so that a restart with a persisted World can seed again.
 */
export function seedVaultSecret(
  world: { vault: SimVault; now: () => number },
  name: string,
  value: string,
  contentType?: string,
): SimVaultSecretVersion {
  delete world.vault.deleted[name.toLowerCase()];
  delete world.vault.recovering?.[name.toLowerCase()];
  return addVersion(world.vault, name, { value, contentType }, Math.floor(world.now() / 1000));
}

export function addVersion(
  vault: SimVault,
  name: string,
  init: Pick<SimVaultSecretVersion, 'value' | 'contentType' | 'tags' | 'nbf' | 'exp'> & { enabled?: boolean },
  nowSeconds: number,
): SimVaultSecretVersion {
  const key = name.toLowerCase();
  const secret = (vault.secrets[key] ??= { name, versions: [] });
  const version: SimVaultSecretVersion = {
    version: newVersionId(),
    value: init.value,
    ...(init.contentType !== undefined ? { contentType: init.contentType } : {}),
    ...(init.tags !== undefined ? { tags: init.tags } : {}),
    enabled: init.enabled ?? true,
    ...(init.nbf !== undefined ? { nbf: init.nbf } : {}),
    ...(init.exp !== undefined ? { exp: init.exp } : {}),
    created: nowSeconds,
    updated: nowSeconds,
  };
  secret.versions.push(version);
  return version;
}
