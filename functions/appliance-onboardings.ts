/** The PBX's "Authorize" button (SPEC.md `POST /appliance/onboardings`, `GET /appliance/onboardings/{id}`). @module */
import './telemetry.js';
import { app } from '@azure/functions';
import { getApplianceOnboarding, postApplianceOnboarding } from '../src/http/appliance-onboardings.js';
import { broker, correlated } from './runtime.js';

app.http('createApplianceOnboarding', {
  methods: ['POST'],
  route: 'appliance/onboardings',
  authLevel: 'anonymous',
  handler: async (request, context) =>
    postApplianceOnboarding(correlated(await broker(), context), request, context),
});

app.http('getApplianceOnboarding', {
  methods: ['GET'],
  route: 'appliance/onboardings/{id}',
  authLevel: 'anonymous',
  handler: async (request, context) =>
    getApplianceOnboarding(correlated(await broker(), context), request, context),
});
