/**
 * The few OData query options the Graph simulator understands: `$select` (projection), `$filter` on
 * `appId eq '…'` for service principals, and `$top`. Any other system query option is refused, as Graph
 * refuses what a resource does not support, rather than silently ignored.
 * @module
 */
import { GraphFailure } from './errors.js';

/** Refuses system query options (`$…`) other than `allowed`. Wording **unverified**. */
export function assertQueryOptions(url: URL, allowed: readonly string[]): void {
  for (const key of url.searchParams.keys()) {
    if (key.startsWith('$') && !allowed.includes(key.toLowerCase()))
      throw new GraphFailure(400, 'BadRequest', `The query parameter '${key}' is not supported.`);
  }
}

/**
 * The properties `$select` names, or undefined. An unknown property is a 400, as OData requires ("Could not find a
 * property named 'x' on type 'microsoft.graph.y'." — Graph's wording as widely quoted; third-party only).
 */
export function selected(url: URL, type: string, known: readonly string[]): string[] | undefined {
  const raw = url.searchParams.get('$select');
  if (raw === null) return undefined;
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!known.some((k) => k.toLowerCase() === name.toLowerCase()))
      throw new GraphFailure(
        400,
        'BadRequest',
        `Could not find a property named '${name}' on type 'microsoft.graph.${type}'.`,
      );
  }
  return names.map((n) => known.find((k) => k.toLowerCase() === n.toLowerCase())!);
}

/** Keeps only the selected properties (all when nothing was selected). */
export function project<T extends object>(entity: T, select: readonly string[] | undefined): Partial<T> {
  if (!select) return entity;
  const out: Partial<T> = {};
  for (const key of select) {
    if (key in entity) (out as Record<string, unknown>)[key] = (entity as Record<string, unknown>)[key];
  }
  return out;
}

/** `@odata.context` for an entity set or a single entity, with the `$select` list as Graph shows it. */
export function odataContext(
  base: string,
  path: string,
  select: readonly string[] | undefined,
  entity: boolean,
): string {
  const sel = select ? `(${select.join(',')})` : '';
  return `${base}/v1.0/$metadata#${path}${sel}${entity ? '/$entity' : ''}`;
}

/**
 * Parses `appId eq '{guid}'` (OData string literal, `''` escapes a quote). Anything else is refused with
 * `Request_UnsupportedQuery`, the directory's code for filters it cannot run (**unverified** wording).
 */
export function appIdFilter(filter: string, resource: string): string {
  const m = /^\s*appId\s+eq\s+'((?:[^']|'')*)'\s*$/i.exec(filter);
  if (m) return m[1]!.replace(/''/g, "'");
  const property = /^\s*([A-Za-z]+)/.exec(filter)?.[1] ?? filter;
  throw new GraphFailure(
    400,
    'Request_UnsupportedQuery',
    `Unsupported or invalid query filter clause specified for property '${property}' of resource '${resource}'.`,
  );
}
