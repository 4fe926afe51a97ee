/**
 * Path parameters are read through their route's declaration (src/http/routes/path-parameters.ts `readPath`):
 * a value the published schema refuses is a 400 with the schema's reason, never the value; a GUID comes back
 * lower-cased, as every store keys it; and every parameter a route template names is described once.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { Problem } from '../../src/http/problem.js';
import { catalogue } from '../../src/http/routes/catalogue.js';
import { pathParameterNames, pathParameters, readPath } from '../../src/http/routes/path-parameters.js';
import { applianceRoutes } from '../../src/http/routes/support-appliances.js';
import { tenantRoutes } from '../../src/http/routes/support.js';

const request = (params: Record<string, string>) => ({
  method: 'GET',
  url: 'https://broker.example/x',
  headers: { get: () => null },
  params,
  text: async () => '',
});

function refusal(run: () => unknown): { status: number; detail: string | undefined } {
  try {
    run();
  } catch (err) {
    if (err instanceof Problem) return { status: err.status, detail: err.detail };
    throw err;
  }
  throw new Error('accepted');
}

describe('path parameters', () => {
  it('returns a GUID lower-cased', () => {
    const tenantId = 'C0A7F5D2-1E4B-4A8C-9D3E-6F2B7A1C8E90';
    expect(readPath(tenantRoutes.getTenant, request({ tenantId }))).toEqual({
      tenantId: tenantId.toLowerCase(),
    });
  });

  it.each([
    ['not a GUID', { clientId: 'pbx-1' }],
    ['missing', {}],
    ['a GUID with something after it', { clientId: '11111111-2222-3333-4444-555555555555x' }],
  ])('refuses a value that is %s with the schema’s reason, not the value', (_, params) => {
    const { status, detail } = refusal(() => readPath(applianceRoutes.getAppliance, request(params)));
    expect(status).toBe(400);
    expect(detail).toBe('clientId must be a GUID.');
  });

  it('describes every path parameter of every route', () => {
    for (const route of catalogue)
      expect(pathParameters(route.route).length, route.name).toBe(pathParameterNames(route.route).length);
  });
});
