/**
 * Every HTTP function the app registers (functions/*.ts, loaded through the local host's stand-in for
 * `@azure/functions-core`, as test/integration/broker-host.ts does) appears in the OpenAPI document with the
 * same methods. Registered ⊆ documented: a route documented before it is registered keeps this
 * green; a route registered without documentation does not.
 * @module
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { installCoreModule, type Registry } from '../../local/functions-host.js';
import { openApiDocument } from '../../src/http/openapi.js';

const doc = openApiDocument({ publicUrl: 'http://localhost:7071' });
let registry: Registry;

beforeAll(async () => {
  registry = installCoreModule();
  const dir = resolve(import.meta.dirname, '../../functions');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort()) {
    await import(pathToFileURL(join(dir, file)).href);
  }
});

/**
 * An Azure Functions route template as an OpenAPI path: served at the root (host.json `routePrefix: ""`),
 * `{name:constraint}`, `{name?}` and `{*name}` all being the parameter `{name}`.
 */
function toOpenApiPath(route: string): string {
  const trimmed = route.replace(/^\/+|\/+$/g, '');
  return `/${trimmed.replace(/\{\*?([A-Za-z0-9_]+)(?::[^}?]+)?\??\}/g, '{$1}')}`;
}

const documentedMethods = (path: string): string[] => {
  const item = doc.paths[path];
  if (!item) return [];
  return (['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const)
    .filter((m) => item[m] !== undefined)
    .map((m) => m.toUpperCase());
};

describe('registered routes ⊆ the OpenAPI document', () => {
  it('translates route templates as the host reads them', () => {
    expect(toOpenApiPath('connect/{code}/go')).toBe('/connect/{code}/go');
    expect(toOpenApiPath('{tenant}/oauth2/v2.0/token')).toBe('/{tenant}/oauth2/v2.0/token');
    expect(toOpenApiPath('api/items/{id:guid}')).toBe('/api/items/{id}');
    expect(toOpenApiPath('files/{*rest}')).toBe('/files/{rest}');
    expect(toOpenApiPath('a/{b?}')).toBe('/a/{b}');
  });

  it('loads the registrations of functions/', () => {
    expect(registry.http.length).toBeGreaterThanOrEqual(20);
    expect(registry.http.map((f) => f.route)).toContain('api/openapi.json');
  });

  it('documents every registered HTTP function with each of its methods', () => {
    const missing = registry.http.flatMap((f) => {
      const path = toOpenApiPath(f.route);
      const documented = documentedMethods(path);
      return f.methods.filter((m) => !documented.includes(m)).map((m) => `${m} ${path} (${f.name})`);
    });
    expect(missing).toEqual([]);
  });

  it('documents no method on a registered route that the route does not register', () => {
    const byPath = new Map<string, Set<string>>();
    for (const f of registry.http) {
      const path = toOpenApiPath(f.route);
      const set = byPath.get(path) ?? new Set<string>();
      for (const m of f.methods) set.add(m);
      byPath.set(path, set);
    }
    const extra = [...byPath].flatMap(([path, methods]) =>
      documentedMethods(path)
        .filter((m) => !methods.has(m))
        .map((m) => `${m} ${path}`),
    );
    expect(extra).toEqual([]);
  });
});
