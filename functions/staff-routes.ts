/**
 * Registers support API routes of the catalogue (src/http/routes/): each runs behind `asStaff` with the role
 * it declares, so the role a route checks is the role its OpenAPI document shows (src/http/routes/catalogue.ts
 * `securityOf`).
 * @module
 */
import { app, type HttpRequest, type InvocationContext } from '@azure/functions';
import type { Broker } from '../src/broker.js';
import type { RouteFamily } from '../src/http/routes/types.js';
import { asStaff } from '../src/http/edge.js';
import type { HttpReply } from '../src/http/types.js';
import type { StaffPrincipal } from '../src/support/staff-auth.js';
import { broker, correlated } from './runtime.js';

/** A support API handler: the correlated broker, the request, and the staff member it authenticated. */
export type StaffHandler = (b: Broker, request: HttpRequest, staff: StaffPrincipal) => Promise<HttpReply>;

/** Registers staff routes: each authenticates the caller for the role it declares, then runs its handler. */
export function registerStaffRoutes<K extends string>(
  routes: RouteFamily<K>,
  handlers: { readonly [N in K]: StaffHandler },
): void {
  for (const name of Object.keys(routes) as K[]) {
    const route = routes[name];
    const role = route.access;
    if (role !== 'Broker.Read' && role !== 'Broker.Admin')
      throw new Error(`${name} is ${role}, not a staff route`);
    const handler = handlers[name];
    app.http(route.name, {
      methods: [route.method],
      route: route.route,
      authLevel: 'anonymous',
      handler: async (request: HttpRequest, context: InvocationContext) => {
        const b = correlated(await broker(), context);
        return asStaff(b, request, role, context, (staff) => handler(b, request, staff));
      },
    });
  }
}
