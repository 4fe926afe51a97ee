/**
 * Key Vault simulator: the secrets part of the data plane of `https://{vault}.vault.azure.net`, as
 * `@azure/keyvault-secrets` 4.12.0 calls it (FACTS.md §8). Each request goes through the same steps:
 * challenge authentication (401 + WWW-Authenticate), `api-version` (required, no server default), access
 * policy (403), name validation (400), then the operation on the World's vault (`world.vault`).
 *
 * By default the vault is the one infra/ deploys: soft delete with purge protection, so a deleted secret can only
 * be recovered (asynchronously, `recoveryDelayMs`) or wait out its 90 days, a purge answers 403, and setting the
 * name again answers 409 ObjectIsDeletedButRecoverable (`configureVault` turns purge protection off).
 * @module
 */
import type { SimContext } from '../context.js';
import type { SimRequest, SimResponse, SimRoute } from '../common/server.js';
import { json } from '../common/server.js';
import { authenticate, authorize } from './auth.js';
import { badParameter, KeyVaultError } from './errors.js';
import {
  assertName,
  deleteSecret,
  getDeletedSecret,
  getSecret,
  listDeletedSecrets,
  listSecrets,
  listVersions,
  purgeDeletedSecret,
  recoverDeletedSecret,
  setSecret,
  sweep,
  updateSecret,
  type OpContext,
} from './secrets.js';
import type { SecretPermission } from './vault-state.js';
import type { VaultPermission } from './auth.js';
import { createKey, getKey, unwrapKey, wrapKey } from './keys.js';

export { keyVaultErrorBody } from './errors.js';
export { seedVaultKey, type KeyPermission } from './keys.js';
export {
  ALL_SECRET_PERMISSIONS,
  BROKER_KEY_PERMISSIONS,
  configureVault,
  createVaultState,
  DEFAULT_RECOVERY_DELAY_MS,
  seedVaultSecret,
  type SecretPermission,
  type SimVault,
  type SimVaultAccessPolicy,
} from './vault-state.js';

/**
 * api-versions the service recognises: the SDK's KnownVersions (KV-NPM: 7.0–7.6, 2025-07-01, 2026-04-01)
 * and 2016-10-01. Others get "The specified version (…) is not recognized. Consider using the latest
 * supported version (…)." (third-party only: quoted from the live service in InSpec's azure helpers).
 */
const API_VERSIONS = [
  '2016-10-01',
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '7.5',
  '7.6',
  '2025-07-01',
  '2026-04-01',
];
const LATEST_API_VERSION = '2026-04-01';

type Operation = (op: OpContext, req: SimRequest) => unknown;

export function keyVaultRoutes(ctx: SimContext): SimRoute[] {
  const route = (
    method: string,
    path: string,
    permission: SecretPermission | VaultPermission,
    operation: Operation,
  ): SimRoute => ({
    method,
    path,
    handler: async (req): Promise<SimResponse> => {
      const { world } = ctx;
      try {
        const caller = await authenticate(ctx, world.vault, req);
        const apiVersion = checkApiVersion(req.url.searchParams.get('api-version'));
        authorize(
          world.vault,
          caller,
          typeof permission === 'string' ? { on: 'secrets', permission } : permission,
        );
        if (req.params.name !== undefined) assertName(req.params.name);
        sweep(world);
        const result = operation({ world, vaultUrl: ctx.urls.keyVault, apiVersion }, req);
        return result === undefined ? { status: 204 } : json(200, result);
      } catch (err) {
        if (err instanceof KeyVaultError) return err.toResponse();
        throw err;
      }
    },
  });
  const p = (req: SimRequest, key: 'name' | 'version'): string => req.params[key] ?? '';

  return [
    route('GET', '/secrets', 'list', (op, req) => listSecrets(op, req.url.searchParams)),
    route('PUT', '/secrets/{name}', 'set', (op, req) => setSecret(op, p(req, 'name'), req.body)),
    route('DELETE', '/secrets/{name}', 'delete', (op, req) => deleteSecret(op, p(req, 'name'))),
    // The SDK asks for the latest version with an empty version segment: /secrets/{name}/ (FACTS.md §8.1).
    route('GET', '/secrets/{name}', 'get', (op, req) => getSecret(op, p(req, 'name'), '')),
    route('GET', '/secrets/{name}/', 'get', (op, req) => getSecret(op, p(req, 'name'), '')),
    route('GET', '/secrets/{name}/versions', 'list', (op, req) =>
      listVersions(op, p(req, 'name'), req.url.searchParams),
    ),
    route('GET', '/secrets/{name}/{version}', 'get', (op, req) =>
      getSecret(op, p(req, 'name'), p(req, 'version')),
    ),
    route('PATCH', '/secrets/{name}/', 'set', (op, req) => updateSecret(op, p(req, 'name'), '', req.body)),
    route('PATCH', '/secrets/{name}/{version}', 'set', (op, req) =>
      updateSecret(op, p(req, 'name'), p(req, 'version'), req.body),
    ),
    route('GET', '/deletedsecrets', 'list', (op, req) => listDeletedSecrets(op, req.url.searchParams)),
    route('GET', '/deletedsecrets/{name}', 'get', (op, req) => getDeletedSecret(op, p(req, 'name'))),
    route('DELETE', '/deletedsecrets/{name}', 'purge', (op, req) => purgeDeletedSecret(op, p(req, 'name'))),
    route('POST', '/deletedsecrets/{name}/recover', 'recover', (op, req) =>
      recoverDeletedSecret(op, p(req, 'name')),
    ),
    route('POST', '/keys/{name}/create', { on: 'keys', permission: 'create' }, (op, req) =>
      createKey(op, p(req, 'name'), req.body),
    ),
    route('GET', '/keys/{name}', { on: 'keys', permission: 'get' }, (op, req) =>
      getKey(op, p(req, 'name'), ''),
    ),
    route('GET', '/keys/{name}/', { on: 'keys', permission: 'get' }, (op, req) =>
      getKey(op, p(req, 'name'), ''),
    ),
    route('GET', '/keys/{name}/{version}', { on: 'keys', permission: 'get' }, (op, req) =>
      getKey(op, p(req, 'name'), p(req, 'version')),
    ),
    route('POST', '/keys/{name}/{version}/wrapkey', { on: 'keys', permission: 'wrapKey' }, (op, req) =>
      wrapKey(op, p(req, 'name'), p(req, 'version'), req.body),
    ),
    route('POST', '/keys/{name}/{version}/unwrapkey', { on: 'keys', permission: 'unwrapKey' }, (op, req) =>
      unwrapKey(op, p(req, 'name'), p(req, 'version'), req.body),
    ),
  ];
}

/** KV-AUTH: "Clients must use the api-version query string parameter … as there is no default." */
function checkApiVersion(value: string | null): string {
  // Message for a missing api-version: **unverified**.
  if (!value) throw badParameter('The api-version query parameter is required.');
  if (!API_VERSIONS.includes(value))
    throw badParameter(
      `The specified version (${value}) is not recognized. Consider using the latest supported version (${LATEST_API_VERSION}).`,
    );
  return value;
}
