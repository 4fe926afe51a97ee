/**
 * The route catalogue (src/http/routes/catalogue.ts) is the one declaration of every route: functions/
 * registers exactly its routes (loaded through the local host's stand-in for `@azure/functions-core`, as
 * test/http/openapi-routes.test.ts does), and the OpenAPI document's `security` of every operation is the
 * route's access (OAS 3.1 §4.8.28: `[]` is anonymous).
 * @module
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { installCoreModule, type Registry } from '../../local/functions-host.js';
import { openApiDocument } from '../../src/http/openapi.js';
import { paths } from '../../src/http/openapi/paths.js';
import { catalogue, openApiPath, pathParameterNames } from '../../src/http/routes/catalogue.js';
import { family, type Access } from '../../src/http/routes/types.js';

const doc = openApiDocument({ publicUrl: 'http://localhost:7071' });
let registry: Registry;

beforeAll(async () => {
  registry = installCoreModule();
  const dir = resolve(import.meta.dirname, '../../functions');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort()) {
    await import(pathToFileURL(join(dir, file)).href);
  }
});

const operation = (route: (typeof catalogue)[number]) =>
  doc.paths[openApiPath(route.route)]?.[route.method.toLowerCase() as 'get'];

/** What each access means in the document, written out here rather than read from `securityOf`. */
const EXPECTED: Record<Access, (formBody: boolean) => unknown> = {
  anonymous: () => [],
  'Broker.Read': () => [{ staff: ['Broker.Read'] }],
  'Broker.Admin': () => [{ staff: ['Broker.Admin'] }],
  // HTTP Basic, or credentials in the form body (client_secret_post, private_key_jwt), or a bearer assertion.
  appliance: (formBody) => [{ clientSecretBasic: [] }, formBody ? {} : { applianceAssertion: [] }],
};

describe('route catalogue', () => {
  it('is what functions/ registers: each name once, with its method and route', () => {
    const registered = registry.http.map((f) => `${f.name} ${f.methods.join(',')} ${f.route}`).sort();
    const declared = catalogue.map((r) => `${r.name} ${r.method} ${r.route}`).sort();
    expect(registered).toEqual(declared);
    expect(new Set(catalogue.map((r) => r.name)).size).toBe(catalogue.length);
  });

  it('is what the document describes: one operation per route, named by its function name', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      (['get', 'put', 'post', 'delete'] as const)
        .filter((m) => item[m])
        .map((m) => `${m.toUpperCase()} ${path} ${item[m]!.operationId}`),
    );
    expect(documented.sort()).toEqual(
      catalogue.map((r) => `${r.method} ${openApiPath(r.route)} ${r.name}`).sort(),
    );
  });

  it.each(catalogue.map((r) => [`${r.method} /${r.route}`, r] as const))(
    'documents %s with the security of its access',
    (_, route) => {
      const formBody = route.requestBody?.content['application/x-www-form-urlencoded'] !== undefined;
      expect(operation(route)?.security).toEqual(EXPECTED[route.access](formBody));
      expect(operation(route)?.tags).toEqual([route.audience]);
    },
  );

  it("gives the staff routes, and only them, the bearer token's 401 and 403 answers", () => {
    for (const route of catalogue) {
      const responses = operation(route)?.responses ?? {};
      const staffAnswers = [responses['401'], responses['403']].map((r) => JSON.stringify(r));
      if (route.access === 'Broker.Read' || route.access === 'Broker.Admin')
        expect(staffAnswers, route.name).toEqual([
          JSON.stringify({ $ref: '#/components/responses/Unauthorized' }),
          JSON.stringify({ $ref: '#/components/responses/Forbidden' }),
        ]);
      else expect(JSON.stringify(responses), route.name).not.toMatch(/responses\/(Unauthorized|Forbidden)"/);
    }
  });

  it('declares each path parameter of a template once, on its path', () => {
    for (const route of catalogue) {
      const item = doc.paths[openApiPath(route.route)]!;
      const names = (item.parameters ?? []).map((p) =>
        '$ref' in p ? doc.components.parameters[p.$ref.split('/').pop()!]!.name : p.name,
      );
      expect(names, route.name).toEqual(pathParameterNames(route.route));
    }
  });

  it('refuses a route declared twice, and a path parameter nobody described', () => {
    const spec = {
      method: 'GET',
      route: 'api/things/{thingId}',
      access: 'anonymous',
      summary: 'x',
      responses: {},
    } as const;
    expect(() => paths(Object.values(family('operations', { a: spec, b: spec })))).toThrow(
      /path parameter \{thingId\}/,
    );
    const plain = { ...spec, route: 'api/things' };
    expect(() => paths(Object.values(family('operations', { a: plain, b: plain })))).toThrow(
      /GET \/api\/things is declared twice/,
    );
  });
});
