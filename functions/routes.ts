/**
 * Registers the routes of the catalogue (src/http/routes/) with their handlers: a functions/ file names its
 * family and binds a handler to each route of it, by name; method and route come from the declaration.
 * Staff routes go through functions/staff-routes.ts, which checks the role they declare. (No import of
 * functions/runtime.ts here: a module that needs no broker, such as functions/assets.ts, starts none.)
 * @module
 */
import { app, type HttpHandler } from '@azure/functions';
import type { RouteFamily } from '../src/http/routes/types.js';

/** Registers each route of `routes` with its handler; a staff route must go through `registerStaffRoutes`. */
export function registerRoutes<K extends string>(
  routes: RouteFamily<K>,
  handlers: { readonly [N in K]: HttpHandler },
): void {
  for (const name of Object.keys(routes) as K[]) {
    const route = routes[name];
    if (route.access === 'Broker.Read' || route.access === 'Broker.Admin')
      throw new Error(
        `${name} needs ${route.access}: register it with registerStaffRoutes (functions/staff-routes.ts)`,
      );
    app.http(route.name, {
      methods: [route.method],
      route: route.route,
      authLevel: 'anonymous',
      handler: handlers[name],
    });
  }
}
