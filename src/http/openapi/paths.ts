/**
 * The document's paths, one operation per route of the catalogue (src/http/routes/catalogue.ts): the path is
 * the `app.http` route with a leading slash (host.json `routePrefix: ""`), `operationId` the `app.http`
 * function name, `security` follows from the route's access, and path parameters from its template.
 * @module
 */
import { catalogue, openApiPath, pathParameters, securityOf } from '../routes/catalogue.js';
import type { RouteDeclaration } from '../routes/types.js';
import type { HttpMethod, Operation, PathItem } from './types.js';

export function operationOf(route: RouteDeclaration): Operation {
  return {
    operationId: route.name,
    tags: [route.audience],
    summary: route.summary,
    ...(route.description !== undefined ? { description: route.description } : {}),
    ...(route.query?.length ? { parameters: route.query } : {}),
    security: securityOf(route),
    ...(route.requestBody ? { requestBody: route.requestBody } : {}),
    responses: route.responses,
  };
}

export function paths(routes: readonly RouteDeclaration[] = catalogue): Record<string, PathItem> {
  const out: Record<string, Partial<Record<HttpMethod, Operation>> & Pick<PathItem, 'parameters'>> = {};
  for (const route of routes) {
    const path = openApiPath(route.route);
    const method = route.method.toLowerCase() as HttpMethod;
    let item = out[path];
    if (!item) {
      const parameters = pathParameters(route.route);
      item = out[path] = parameters.length ? { parameters } : {};
    }
    if (item[method]) throw new Error(`${route.method} ${path} is declared twice`);
    item[method] = operationOf(route);
  }
  return out;
}
