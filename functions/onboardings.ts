/** Support API: consent links for customers (src/http/routes/support.ts); behaviour in src/http/onboardings-api.ts. @module */
import './telemetry.js';
import { getOnboarding, postOnboarding } from '../src/http/onboardings-api.js';
import { onboardingRoutes } from '../src/http/routes/support.js';
import { registerStaffRoutes } from './staff-routes.js';

registerStaffRoutes(onboardingRoutes, {
  createOnboarding: (b, request, staff) => postOnboarding(b, request, staff),
  getOnboarding: (b, request) => getOnboarding(b, request),
});
