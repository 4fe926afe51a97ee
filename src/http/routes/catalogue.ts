/**
 * Every route of the broker (SPEC.md "HTTP surface"), each declared once in its family file. functions/
 * registers exactly these (functions/routes.ts), src/http/openapi/paths.ts documents exactly these, and
 * `securityOf` is the one map from a route's access to the document's security requirement.
 * @module
 */
import type { SecurityRequirement } from '../openapi/types.js';
import { applianceGrantRoutes, applianceOnboardingRoutes, tokenRoutes } from './appliances.js';
import { consoleRoutes } from './console.js';
import { webhookRoutes } from './webhooks.js';
import { assetRoutes, connectRoutes, enrollmentRoutes, grantRoutes } from './customers.js';
import { healthRoutes, openApiRoutes } from './operations.js';
import { applianceRoutes } from './support-appliances.js';
import { checkRoutes, mailboxGrantRoutes, onboardingRoutes, tenantRoutes } from './support.js';
import type { RouteDeclaration } from './types.js';

export const catalogue: readonly RouteDeclaration[] = [
  connectRoutes,
  grantRoutes,
  enrollmentRoutes,
  assetRoutes,
  tokenRoutes,
  applianceOnboardingRoutes,
  applianceGrantRoutes,
  onboardingRoutes,
  tenantRoutes,
  checkRoutes,
  mailboxGrantRoutes,
  applianceRoutes,
  webhookRoutes,
  consoleRoutes,
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

export { openApiPath, pathParameterNames, pathParameters } from './path-parameters.js';
