/**
 * Bearer-token authentication and app-only permission checks for the Graph simulator. The token must be one the
 * simulated Entra ID signed (signature, `exp`, `nbf`), issued for Microsoft Graph (`aud`
 * https://graph.microsoft.com or the Graph app id, FACTS.md §4.1, §5.1); its `tid` names the tenant whose data is
 * served and its `roles` are the application permissions granted (FACTS.md §4.1: a token may carry no `roles`).
 * @module
 */
import { errors } from 'jose';
import type { SimRequest } from '../common/server.js';
import { audienceIn } from '../common/clouds.js';
import { GRAPH_APP_ID } from '../common/well-known.js';
import type { SimTenant } from '../common/world.js';
import type { SimContext } from '../context.js';
import { GraphFailure } from './errors.js';

/** The app calling Graph, as its access token describes it. */
export interface GraphCaller {
  readonly tenant: SimTenant;
  /** `appid` (v1 tokens) or `azp` (v2 tokens). */
  readonly appId: string;
  /** `oid`: the caller's service principal in `tenant` (FACTS.md §4.1). */
  readonly servicePrincipalId: string;
  readonly roles: readonly string[];
}

/**
 * Messages as Graph words them (third-party only: https://github.com/microsoftgraph/msgraph-sample-reactspa/issues/54
 * "Access token is empty.", https://github.com/microsoftgraph/console-java-connect-sample/issues/1 "Access token
 * validation failure.", https://github.com/microsoftgraph/msgraph-training-dotnet/issues/31 "CompactToken parsing
 * failed…"). The expired-token and audience wording is **unverified**. Callers must not branch on them (G-ERR).
 */
const MESSAGES = {
  empty: 'Access token is empty.',
  malformed: 'CompactToken parsing failed with error code: 80049217',
  invalid: 'Access token validation failure.',
  audience: 'Access token validation failure. Invalid audience.',
  expired: 'Lifetime validation failed, the token is expired.',
} as const;

export async function authenticate(ctx: SimContext, req: SimRequest): Promise<GraphCaller> {
  const header = req.headers.authorization;
  const match = typeof header === 'string' ? /^Bearer\s+(.*)$/i.exec(header.trim()) : null;
  const token = match?.[1]?.trim();
  if (!token) throw unauthenticated(ctx, MESSAGES.empty);
  if (token.split('.').length !== 3) throw unauthenticated(ctx, MESSAGES.malformed);

  let claims: Record<string, unknown>;
  try {
    claims = await ctx.keys.verify(token);
  } catch (err) {
    if (err instanceof errors.JWTExpired) throw unauthenticated(ctx, MESSAGES.expired);
    if (err instanceof errors.JOSEError) throw unauthenticated(ctx, MESSAGES.invalid);
    throw err;
  }

  // Graph's App ID URI in this world's cloud, or its app id: a token for another cloud's Graph is refused.
  if (!audienceIn(claims.aud, ctx.world.cloud.graphUris, GRAPH_APP_ID))
    throw unauthenticated(ctx, MESSAGES.audience);

  const tid = typeof claims.tid === 'string' ? claims.tid : undefined;
  const tenant = tid ? ctx.world.tenants.get(tid.toLowerCase()) : undefined;
  const appId = typeof claims.appid === 'string' ? claims.appid : claims.azp;
  const oid = claims.oid;
  if (!tenant || typeof appId !== 'string' || typeof oid !== 'string')
    throw unauthenticated(ctx, MESSAGES.invalid);

  const roles = Array.isArray(claims.roles)
    ? claims.roles.filter((r): r is string => typeof r === 'string')
    : [];
  return { tenant, appId: appId.toLowerCase(), servicePrincipalId: oid, roles };
}

/** True when the token carries at least one of these application permissions. */
export function hasAnyRole(caller: GraphCaller, accepted: readonly string[]): boolean {
  return caller.roles.some((r) => accepted.includes(r));
}

/**
 * Directory (Entra) objects refuse an app without the permission with 403 `Authorization_RequestDenied`
 * "Insufficient privileges to complete the operation." (Microsoft's daemon-app troubleshooting sample,
 * MicrosoftDocs/azure-docs `scenario-daemon-app-registration` and its translations).
 */
export function requireDirectoryRole(caller: GraphCaller, accepted: readonly string[]): void {
  if (!hasAnyRole(caller, accepted))
    throw new GraphFailure(
      403,
      'Authorization_RequestDenied',
      'Insufficient privileges to complete the operation.',
    );
}

function unauthenticated(ctx: SimContext, message: string): GraphFailure {
  // Graph's 401 carries a Bearer challenge naming the authority and Graph's app id (**unverified**: recalled from
  // live responses, not in the docs read).
  return new GraphFailure(401, 'InvalidAuthenticationToken', message, {
    'www-authenticate': `Bearer realm="", authorization_uri="${ctx.urls.entra}/common/oauth2/authorize", client_id="${GRAPH_APP_ID}"`,
  });
}
