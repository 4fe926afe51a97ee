/**
 * Delegated scopes as Entra ID reads them from a request: which resource a delegated access token is for, and
 * which permissions of it the request asks for.
 *
 * - The OpenID Connect scopes (`openid`, `profile`, `email`, `offline_access`) are Microsoft Graph's and never
 *   choose the token's resource (FACTS.md §14).
 * - `{resource URI}/{value}` names one permission of that resource; `{resource URI}/.default` stands for those
 *   the app's registration lists for it. An access token is for one resource: "a token is issued for a single
 *   resource" (https://learn.microsoft.com/entra/identity-platform/scopes-oidc, "The .default scope"), and a
 *   request naming two is refused with AADSTS28000 (the text as clients meet it: **third-party only**).
 * - Exchange Online's legacy-protocol permissions are registered on Microsoft Graph and asked for on Exchange:
 *   "select Microsoft Graph … Delegated permissions … IMAP.AccessAsUser.All … POP.AccessAsUser.All …
 *   SMTP.Send", with the token requested for `https://outlook.office.com/IMAP.AccessAsUser.All`
 *   (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth);
 *   EWS.AccessAsUser.All likewise
 *   (https://learn.microsoft.com/exchange/client-developer/exchange-web-services/how-to-authenticate-an-ews-application-by-using-oauth).
 *   So a grant of Graph's permission covers the Exchange scope of the same name (how Entra links the two
 *   internally is **unverified**; that it does is what those pages rely on).
 * @module
 */
import { EXCHANGE_APP_ID, GRAPH_APP_ID, type SimResource } from '../common/well-known.js';
import type { SimApp, SimTenant, World } from '../common/world.js';
import { EntraError } from './errors.js';

export const OIDC_SCOPES: ReadonlySet<string> = new Set(['openid', 'profile', 'email', 'offline_access']);

/** Exchange Online delegated permissions whose registration (and so consent) is Microsoft Graph's. */
const EXCHANGE_VIA_GRAPH: ReadonlySet<string> = new Set([
  'imap.accessasuser.all',
  'pop.accessasuser.all',
  'smtp.send',
  'ews.accessasuser.all',
]);

/** The resource whose grants cover `value` of `resourceAppId` (Graph for Exchange's legacy protocols). */
export function consentResourceOf(resourceAppId: string, value: string): string {
  return resourceAppId === EXCHANGE_APP_ID && EXCHANGE_VIA_GRAPH.has(value.toLowerCase())
    ? GRAPH_APP_ID
    : resourceAppId;
}

/** What a delegated access token is for. */
export interface DelegatedTarget {
  readonly resource: SimResource;
  /** The resource URI as the request spelled it: a v1 token's `aud` (access-token-claims-reference, `aud`). */
  readonly audience: string;
  /** The permissions (`scp` values) asked of it. */
  readonly values: readonly string[];
}

/**
 * The resource and permissions of a delegated token request, or undefined when it asks for OpenID Connect
 * scopes only (then Entra gives a Graph token for `User.Read`, user-tokens.ts).
 */
export function delegatedTarget(
  world: World,
  app: SimApp,
  scopes: readonly string[],
): DelegatedTarget | undefined {
  let target: { resource: SimResource; audience: string; values: string[] } | undefined;
  for (const s of scopes) {
    if (OIDC_SCOPES.has(s.toLowerCase())) continue;
    const slash = s.lastIndexOf('/');
    const audience = s.slice(0, slash).replace(/\/+$/, '');
    const resource = slash > 0 ? world.findResource(audience) : undefined;
    if (!resource)
      // E-ERR 70011 InvalidScope.
      throw new EntraError(
        400,
        'invalid_scope',
        70011,
        `The provided value for the input parameter 'scope' is not valid. The scope ${s} is not valid.`,
      );
    if (target && target.resource.appId !== resource.appId)
      throw new EntraError(
        400,
        'invalid_scope',
        28000,
        `Provided value for the input parameter scope is not valid because it contains more than one resource. Scope ${scopes.join(' ')} is not valid.`,
      );
    target ??= { resource, audience, values: [] };
    const value = s.slice(slash + 1);
    const values =
      value.toLowerCase() === '.default' ? delegatedOfRegistration(app, resource.appId) : [value];
    for (const v of values)
      if (!target.values.some((t) => t.toLowerCase() === v.toLowerCase())) target.values.push(v);
  }
  return target;
}

/** The delegated permissions the app's registration lists for a resource (Exchange's own via Graph included). */
function delegatedOfRegistration(app: SimApp, resourceAppId: string): string[] {
  const own = app.requiredScopes?.[resourceAppId] ?? [];
  if (resourceAppId !== EXCHANGE_APP_ID) return [...own];
  const viaGraph = (app.requiredScopes?.[GRAPH_APP_ID] ?? []).filter((v) =>
    EXCHANGE_VIA_GRAPH.has(v.toLowerCase()),
  );
  return [...own, ...viaGraph];
}

/**
 * The delegated scopes of `scopes` that neither the tenant's admin consent (AllPrincipals) nor the user's own
 * covers for `app` in `tenant`; undefined when the app has no service principal there. What a refresh and a
 * device code's redemption check before issuing (E-ERR 65001 when something lacks).
 */
export function unconsentedScopes(
  world: World,
  app: SimApp,
  tenant: SimTenant,
  userObjectId: string,
  scopes: readonly string[],
): string[] | undefined {
  const target = delegatedTarget(world, app, scopes);
  const sp = world.servicePrincipal(tenant, app.appId);
  if (!sp) return undefined;
  const grants = (sp.delegatedGrants ?? []).filter(
    (g) => g.consentType === 'AllPrincipals' || g.principalId === userObjectId,
  );
  return (target?.values ?? []).filter(
    (v) =>
      !grants.some(
        (g) =>
          g.resourceAppId === consentResourceOf(target!.resource.appId, v) &&
          g.scopes.some((s) => s.toLowerCase() === v.toLowerCase()),
      ),
  );
}
