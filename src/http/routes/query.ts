/**
 * The query of a support route read as its declaration describes it (src/http/routes/*.ts `query`): only the
 * declared names, each at most once (`strictQuery`), each value checked with ajv
 * against the parameter's schema, the same schema the OpenAPI document publishes. Values arrive as text: an
 * `integer` parameter is read as a number when it is written as one, and a form-style array (OAS 3.1
 * §4.8.12.4, `explode: false`) is split at commas. Compiled once per route, at its first request.
 * @module
 */
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { parameters as componentParameters } from '../openapi/components.js';
import { componentSchemas } from '../openapi/schemas.js';
import type { Parameter, Schema } from '../openapi/types.js';
import { badRequest } from '../problem.js';
import type { HttpRequestLike } from '../types.js';
import type { RouteDeclaration } from './types.js';
import { reasonOf } from './validation.js';

/** Reads the query: only `allowed` names, each at most once. */
export function strictQuery(request: HttpRequestLike, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of new URL(request.url).searchParams) {
    if (!allowed.includes(name))
      throw badRequest(`Unknown query parameter "${name.slice(0, 40)}"; allowed: ${allowed.join(', ')}.`);
    if (out.has(name)) throw badRequest(`Query parameter "${name}" is given more than once.`);
    out.set(name, value);
  }
  return out;
}

const BUNDLE = 'broker-query-schemas';
let ajv: Ajv2020 | undefined;
const compiled = new Map<
  string,
  { readonly params: readonly Parameter[]; readonly check: ValidateFunction }
>();

/** The query parameters a route declares, references resolved. */
export function queryParameters(route: Pick<RouteDeclaration, 'query'>): Parameter[] {
  return (route.query ?? []).map((p) => {
    if (!('$ref' in p)) return p;
    const resolved = componentParameters[p.$ref.replace('#/components/parameters/', '')];
    if (!resolved) throw new Error(`unresolved ${p.$ref}`);
    return resolved;
  });
}

/** The one ajv instance of the routes' request schemas, with the document's component schemas. */
function validator(): Ajv2020 {
  if (!ajv) {
    ajv = new Ajv2020({
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
      validateFormats: false,
      verbose: true,
    });
    ajv.addSchema({
      $id: BUNDLE,
      $defs: JSON.parse(
        JSON.stringify(componentSchemas()).replaceAll('"#/components/schemas/', `"${BUNDLE}#/$defs/`),
      ) as object,
    });
  }
  return ajv;
}

/** Compiles a schema that may refer to the document's component schemas (`#/components/schemas/…`). */
export function compileSchema(schema: object): ValidateFunction {
  return validator().compile(
    JSON.parse(JSON.stringify(schema).replaceAll('"#/components/schemas/', `"${BUNDLE}#/$defs/`)) as object,
  );
}

function compile(route: RouteDeclaration) {
  const known = compiled.get(route.name);
  if (known) return known;
  const params = queryParameters(route);
  const schema = {
    type: 'object',
    properties: Object.fromEntries(params.map((p) => [p.name, p.schema])),
    required: params.filter((p) => p.required).map((p) => p.name),
    additionalProperties: false,
  };
  const entry = { params, check: compileSchema(schema) };
  compiled.set(route.name, entry);
  return entry;
}

/** A query value as its schema reads it: a whole number for `integer`, comma-split for a form array. */
function fromText(parameter: Parameter, text: string): unknown {
  const schema: Schema = parameter.schema;
  if (schema.type === 'integer' && /^-?\d{1,15}$/.test(text)) return Number(text);
  if (schema.type === 'array' && parameter.explode === false) return text === '' ? [] : text.split(',');
  return text;
}

/** The declared query of `route` in `request`, valid against its schemas; else a 400 naming the parameter. */
export function readQuery<T extends Record<string, unknown>>(
  route: RouteDeclaration,
  request: HttpRequestLike,
): T {
  const { params, check } = compile(route);
  const text = strictQuery(
    request,
    params.map((p) => p.name),
  );
  const values = Object.fromEntries(
    params.filter((p) => text.has(p.name)).map((p) => [p.name, fromText(p, text.get(p.name)!)]),
  );
  if (!check(values)) throw badRequest(reasonOf(check.errors));
  return values as T;
}
