/**
 * Support API for appliances (SPEC.md): `POST /api/appliances`, `GET /api/appliances[?tenantId]`,
 * `GET|DELETE /api/appliances/{clientId}`, `POST /api/appliances/{clientId}/secret`. A client secret appears
 * only in the answer that creates it; the views never carry verifiers.
 * @module
 */
import type { RecordDirectory } from '../directory/record-directory.js';
import type { Appliance } from '../appliances/appliance-store.js';
import {
  RegistryInputError,
  registerAppliance,
  revokeAppliance,
  rotateSecret,
  type RegistryDeps,
} from '../appliances/registry.js';
import { staffActor, type StaffPrincipal } from '../support/staff-auth.js';
import { assertKnownProfile } from './edge.js';
import { readJsonBody } from './json-body.js';
import { badRequest, notFound } from './problem.js';
import { readPath } from './routes/path-parameters.js';
import { readQuery } from './routes/query.js';
import type { RouteDeclaration } from './routes/types.js';
import { PAGE_SIZE } from './routes/limits.js';
import { applianceRoutes } from './routes/support-appliances.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';
import { CUSTOMER_REF, CUSTOMER_REF_MAX_LENGTH } from '../ids.js';

/** The registry, plus this instance's cache of appliances: a change made here is seen here at once. */
export interface AppliancesApiDeps extends RegistryDeps {
  readonly directory: RecordDirectory;
}

export async function postAppliance(
  deps: RegistryDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(applianceRoutes.createAppliance, request);
  // Types, unknown fields (in `auth` too), the customerRef and tenant id formats, a non-empty list of distinct
  // profile names, the auth method: the ApplianceRequest schema (src/http/routes/validation.ts). The keys of
  // a JWK Set are checked by the registry (src/appliances/registry.ts).
  const body = await readJsonBody(request, 'ApplianceRequest');
  // The schema reads the reference as sent; what is kept is trimmed, and must still be one.
  const customerRef = body.customerRef.trim();
  if (!CUSTOMER_REF.test(customerRef))
    throw badRequest(`customerRef is required: 1 to ${CUSTOMER_REF_MAX_LENGTH} printable characters.`);
  const tenantId = body.tenantId?.toLowerCase() ?? null;
  const profiles = [...body.profiles];
  const { method, jwks } = body.auth;
  try {
    const { appliance, clientSecret } = await registerAppliance(
      deps,
      { customerRef, tenantId, profiles, method, jwks },
      staffActor(staff),
    );
    return jsonReply(
      201,
      clientSecret ? { clientId: appliance.clientId, clientSecret } : { clientId: appliance.clientId },
      {
        'cache-control': 'no-store',
        location: `/api/appliances/${appliance.clientId}`,
      },
    );
  } catch (err) {
    if (err instanceof RegistryInputError) throw badRequest(err.message);
    throw err;
  }
}

export async function listAppliances(deps: RegistryDeps, request: HttpRequestLike): Promise<HttpReply> {
  // Names, the tenant id format, page size, continuation token: the declaration's query
  // (src/http/routes/support-appliances.ts), checked by readQuery.
  const { tenantId, profile, top, continuationToken } = readQuery<{
    tenantId?: string;
    profile?: string;
    top?: number;
    continuationToken?: string;
  }>(applianceRoutes.listAppliances, request);
  if (profile !== undefined) assertKnownProfile(deps.profiles, profile);
  const page = await deps.appliances.list({
    tenantId: tenantId?.toLowerCase(),
    ...(profile !== undefined ? { profile } : {}),
    top: top ?? PAGE_SIZE.default,
    continuationToken,
  });
  const items = page.items.map(applianceView);
  return jsonReply(
    200,
    page.continuationToken ? { items, continuationToken: page.continuationToken } : { items },
    { 'cache-control': 'no-store' },
  );
}

async function existing(
  deps: RegistryDeps,
  route: RouteDeclaration,
  request: HttpRequestLike,
): Promise<Appliance> {
  const { clientId } = readPath<{ clientId: string }>(route, request);
  const appliance = await deps.appliances.get(clientId);
  if (!appliance) throw notFound(`No appliance ${clientId}.`);
  return appliance;
}

export async function getAppliance(deps: RegistryDeps, request: HttpRequestLike): Promise<HttpReply> {
  readQuery(applianceRoutes.getAppliance, request);
  return jsonReply(200, applianceView(await existing(deps, applianceRoutes.getAppliance, request)), {
    'cache-control': 'no-store',
  });
}

export async function deleteAppliance(
  deps: AppliancesApiDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(applianceRoutes.revokeAppliance, request);
  const appliance = await existing(deps, applianceRoutes.revokeAppliance, request);
  await revokeAppliance(deps, appliance, staffActor(staff));
  deps.directory.invalidate('appliance', appliance.clientId);
  return { status: 204, headers: { 'cache-control': 'no-store' } };
}

export async function postApplianceSecret(
  deps: AppliancesApiDeps,
  request: HttpRequestLike,
  staff: StaffPrincipal,
): Promise<HttpReply> {
  readQuery(applianceRoutes.rotateApplianceSecret, request);
  const appliance = await existing(deps, applianceRoutes.rotateApplianceSecret, request);
  try {
    return jsonReply(200, await rotateSecret(deps, appliance, staffActor(staff)), {
      'cache-control': 'no-store',
    });
  } catch (err) {
    if (err instanceof RegistryInputError) throw badRequest(err.message);
    throw err;
  }
}

export function applianceView(a: Appliance) {
  return {
    clientId: a.clientId,
    customerRef: a.customerRef,
    tenantId: a.tenantId,
    profiles: a.profiles,
    authMethod: a.authMethod,
    status: a.status,
    createdAt: a.createdAt,
    createdBy: a.createdBy,
    revokedAt: a.revokedAt,
    lastSeenAt: a.lastSeenAt,
    tokenCount: a.tokenCount,
    ...(a.authMethod === 'private_key_jwt' ? { jwks: { keys: a.jwks } } : {}),
  };
}
