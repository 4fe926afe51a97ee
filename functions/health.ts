/** `GET /api/health`: anonymous liveness and dependency state (SPEC.md). @module */
import './telemetry.js';
import { app } from '@azure/functions';
import { healthReply } from '../src/http/health-endpoint.js';
import { broker } from './runtime.js';

app.http('health', {
  methods: ['GET'],
  route: 'api/health',
  authLevel: 'anonymous',
  handler: async () => healthReply(await broker()),
});
