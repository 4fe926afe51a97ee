/** `GET /api/health`: anonymous liveness and dependency state (src/http/routes/operations.ts). @module */
import './telemetry.js';
import { healthReply } from '../src/http/health-endpoint.js';
import { healthRoutes } from '../src/http/routes/operations.js';
import { broker } from './runtime.js';
import { registerRoutes } from './routes.js';

registerRoutes(healthRoutes, { health: async () => healthReply(await broker()) });
