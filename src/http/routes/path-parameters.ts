/**
 * The path parameters of the routes (`{tenantId}`, `{clientId}`, …), each described once: the OpenAPI
 * document publishes these descriptions (src/http/openapi/paths.ts), and `readPath` checks a request's values
 * against the same schemas, so that a path the document refuses is refused with the schema's reason.
 * @module
 */
import type { ValidateFunction } from 'ajv/dist/2020.js';
import { GUID_PATTERN } from '../../ids.js';
import { parameterRef, parameters as componentParameters } from '../openapi/components.js';
import type { Parameter, Reference } from '../openapi/types.js';
import { badRequest } from '../problem.js';
import type { HttpRequestLike } from '../types.js';
import { compileSchema } from './query.js';
import type { RouteDeclaration } from './types.js';
import { reasonOf } from './validation.js';

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
  grantCode: {
    name: 'grantCode',
    in: 'path',
    required: true,
    description: "The code of a mailbox grant's link.",
    schema: { type: 'string' },
  },
  grantId: {
    name: 'grantId',
    in: 'path',
    required: true,
    description: 'The mailbox grant id (a GUID).',
    schema: { type: 'string', pattern: GUID_PATTERN },
  },
  webhookId: {
    name: 'webhookId',
    in: 'path',
    required: true,
    description: 'The webhook endpoint id (a GUID).',
    schema: { type: 'string', pattern: GUID_PATTERN },
  },
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

function resolved(parameter: Parameter | Reference): Parameter {
  if (!('$ref' in parameter)) return parameter;
  const found = componentParameters[parameter.$ref.replace('#/components/parameters/', '')];
  if (!found) throw new Error(`unresolved ${parameter.$ref}`);
  return found;
}

/** Per route, compiled at its first request: its parameters, resolved, and their schemas' check. */
const checks = new Map<string, { readonly params: readonly Parameter[]; readonly check: ValidateFunction }>();

/**
 * The path parameters of `route` in `request`, each valid against its declared schema (else a 400 with the
 * schema's reason); a GUID is lower-cased, as every store keys it.
 */
export function readPath<T extends Record<string, string>>(
  route: Pick<RouteDeclaration, 'name' | 'route'>,
  request: HttpRequestLike,
): T {
  let compiled = checks.get(route.name);
  if (compiled === undefined) {
    const params = pathParameters(route.route).map(resolved);
    const check = compileSchema({
      type: 'object',
      properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
      required: params.map((p) => p.name),
    });
    checks.set(route.name, (compiled = { params, check }));
  }
  const { params, check } = compiled;
  const values = Object.fromEntries(params.map((p) => [p.name, request.params[p.name] ?? '']));
  if (!check(values)) throw badRequest(reasonOf(check.errors));
  for (const p of params)
    if (p.schema.pattern === GUID_PATTERN) values[p.name] = values[p.name]!.toLowerCase();
  return values as T;
}
