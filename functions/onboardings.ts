/** Support API: consent links for customers (SPEC.md `POST /api/onboardings`, `GET /api/onboardings/{id}`). @module */
import './telemetry.js';
import { app } from '@azure/functions';
import { getOnboarding, postOnboarding } from '../src/http/onboardings-api.js';
import { asStaff } from '../src/http/support-api.js';
import { broker, correlated } from './runtime.js';

app.http('createOnboarding', {
  methods: ['POST'],
  route: 'api/onboardings',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Admin', context, (staff) => postOnboarding(b, request, staff));
  },
});

app.http('getOnboarding', {
  methods: ['GET'],
  route: 'api/onboardings/{id}',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Read', context, () => getOnboarding(b, request));
  },
});
