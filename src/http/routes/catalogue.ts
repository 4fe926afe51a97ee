/**
 * Every route of the broker (SPEC.md "HTTP surface"), each declared once in its family file. functions/
 * registers exactly these (functions/routes.ts), src/http/openapi/paths.ts documents exactly these, and
 * `securityOf` is the one map from a route's access to the document's security requirement.
 * @module
 */
import { parameterRef } from '../openapi/components.js';
import type { Parameter, Reference, SecurityRequirement } from '../openapi/types.js';
import { applianceOnboardingRoutes, tokenRoutes } from './appliances.js';
import { assetRoutes, connectRoutes } from './customers.js';
import { healthRoutes, openApiRoutes } from './operations.js';
import { applianceRoutes } from './support-appliances.js';
import { checkRoutes, onboardingRoutes, tenantRoutes } from './support.js';
import type { RouteDeclaration } from './types.js';

export const catalogue: readonly RouteDeclaration[] = [
  connectRoutes,
  assetRoutes,
  tokenRoutes,
  applianceOnboardingRoutes,
  onboardingRoutes,
  tenantRoutes,
  checkRoutes,
  applianceRoutes,
  healthRoutes,
  openApiRoutes,
].flatMap((f) => Object.values<RouteDeclaration>(f));

/**
 * The OpenAPI security requirement of a route (OAS 3.1 §4.8.28; `[]` is "no authentication"). Staff routes
 * name their app role. An appliance authenticates with HTTP Basic, or, where the route takes a form body, with
 * client_secret_post or private_key_jwt in it (the empty requirement: nothing in a header), or else with its
 * client assertion as a bearer token (src/http/appliance-onboardings.ts).
 */
export function securityOf(route: Pick<RouteDeclaration, 'access' | 'requestBody'>): SecurityRequirement[] {
  switch (route.access) {
    case 'anonymous':
      return [];
    case 'Broker.Read':
    case 'Broker.Admin':
      return [{ staff: [route.access] }];
    case 'appliance':
      return route.requestBody?.content['application/x-www-form-urlencoded']
        ? [{ clientSecretBasic: [] }, {}]
        : [{ clientSecretBasic: [] }, { applianceAssertion: [] }];
  }
}

/** The names of the parameters of a route template, in order (`{name}`, `{name:constraint}`, `{name?}`, `{*name}`). */
export function pathParameterNames(route: string): string[] {
  return [...route.matchAll(/\{\*?([A-Za-z0-9_]+)(?::[^}?]+)?\??\}/g)].map((m) => m[1]!);
}

/** A route template as an OpenAPI path: served at the root, every parameter as `{name}`. */
export function openApiPath(route: string): string {
  const trimmed = route.replace(/^\/+|\/+$/g, '');
  return `/${trimmed.replace(/\{\*?([A-Za-z0-9_]+)(?::[^}?]+)?\??\}/g, '{$1}')}`;
}

/** Each path parameter the routes use, described once. */
const PATH_PARAMETERS: Readonly<Record<string, Parameter | Reference>> = {
  tenantId: parameterRef('TenantId'),
  clientId: parameterRef('ClientId'),
  id: parameterRef('OnboardingId'),
  code: {
    name: 'code',
    in: 'path',
    required: true,
    description: 'The consent code of the onboarding, from its consent link.',
    schema: { type: 'string' },
  },
  tenant: {
    name: 'tenant',
    in: 'path',
    required: true,
    description:
      "The appliance's bound tenant id, one of its verified domains, or `organizations`; another tenant is `unauthorized_client`.",
    schema: { type: 'string' },
  },
};

/** The parameters of a route template; a name not described above is a mistake in a declaration. */
export function pathParameters(route: string): (Parameter | Reference)[] {
  return pathParameterNames(route).map((name) => {
    const parameter = PATH_PARAMETERS[name];
    if (!parameter) throw new Error(`route ${route}: path parameter {${name}} is not described`);
    return parameter;
  });
}
