/**
 * The anonymous operational routes: `GET /api/health` (functions/health.ts) and this broker's OpenAPI
 * document (functions/openapi.ts).
 * @module
 */
import { ok } from '../openapi/answers.js';
import { json } from '../openapi/components.js';
import { family } from './types.js';

export const healthRoutes = family('operations', {
  health: {
    method: 'GET',
    route: 'api/health',
    access: 'anonymous',
    summary: 'Liveness and dependency state',
    description:
      '200 while the process is alive, even when a dependency is down (`status: "degraded"`), so that a platform health check does not recycle an instance for a dependency’s bad minute. No secrets, no tenant data.',
    responses: { '200': ok('The report.', 'Health') },
  },
});

export const openApiRoutes = family('operations', {
  openApi: {
    method: 'GET',
    route: 'api/openapi.json',
    access: 'anonymous',
    summary: 'This document',
    description:
      'Anonymous, although SPEC.md lists it with the support API: it describes public contracts only (routes, shapes, how to authenticate) and holds no tenant data or secrets, and the RFC 8414 metadata links to it as `service_documentation`.',
    responses: {
      '200': {
        description: 'OpenAPI 3.1.',
        headers: { 'Cache-Control': { schema: { const: 'public, max-age=300' } } },
        content: json({ type: 'object' }),
      },
    },
  },
});
