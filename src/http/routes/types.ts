/**
 * What one route of the broker is, declared once (src/http/routes/*.ts): the `app.http` registration of
 * functions/ (name, method, route), who may call it, and what the OpenAPI document says about it. The
 * document (src/http/openapi/paths.ts) and the registrations (functions/routes.ts) are both read from these
 * declarations, so the two cannot disagree (STYLE.md "One place per concept").
 * @module
 */
import type { StaffRole } from '../../support/staff-auth.js';
import type { Operation, Parameter, Reference, RequestBody } from '../openapi/types.js';

/**
 * Who may call a route:
 * - `anonymous`: anyone (customer pages, metadata, health, the document);
 * - `appliance`: a registered appliance, authenticated as at the token endpoint (src/vending/authenticate.ts);
 * - `Broker.Read` / `Broker.Admin`: vendor staff with that app role (SPEC.md "Vendor support",
 *   src/http/support-api.ts `asStaff`).
 */
export type Access = 'anonymous' | 'appliance' | StaffRole;

/** The OpenAPI tag of a route: who its caller is. */
export type Audience = 'customers' | 'appliances' | 'support' | 'console' | 'operations';

export type RouteMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/** One route, as its family file declares it (the name is its key there). */
export interface RouteSpec {
  readonly method: RouteMethod;
  /** The `app.http` route template, served at the root (host.json `routePrefix: ""`). */
  readonly route: string;
  readonly access: Access;
  readonly summary: string;
  readonly description?: string;
  /** Query parameters; path parameters follow from `route` (src/http/routes/path-parameters.ts `readPath`). */
  readonly query?: readonly (Parameter | Reference)[];
  readonly requestBody?: RequestBody;
  readonly responses: Operation['responses'];
}

export interface RouteDeclaration extends RouteSpec {
  /** The `app.http` function name (stable camelCase: it shows up in logs) and the `operationId`. */
  readonly name: string;
  readonly audience: Audience;
}

/** A family of routes registered by one functions/ file, keyed by function name. */
export type RouteFamily<K extends string> = { readonly [N in K]: RouteDeclaration };

/** Declares a family: each spec gets its key as name and the family's audience. */
export function family<K extends string>(
  audience: Audience,
  specs: { readonly [N in K]: RouteSpec },
): RouteFamily<K> {
  const out = {} as Record<K, RouteDeclaration>;
  for (const name of Object.keys(specs) as K[]) out[name] = { ...specs[name], name, audience };
  return out;
}
