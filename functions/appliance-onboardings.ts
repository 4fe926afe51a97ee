/** The PBX's "Authorize" button (src/http/routes/appliances.ts); behaviour in src/http/appliance-onboardings.ts. @module */
import './telemetry.js';
import { getApplianceOnboarding, postApplianceOnboarding } from '../src/http/appliance-onboardings.js';
import { applianceOnboardingRoutes } from '../src/http/routes/appliances.js';
import { broker, correlated } from './runtime.js';
import { registerRoutes } from './routes.js';

registerRoutes(applianceOnboardingRoutes, {
  createApplianceOnboarding: async (request, context) =>
    postApplianceOnboarding(correlated(await broker(), context), request, context),
  getApplianceOnboarding: async (request, context) =>
    getApplianceOnboarding(correlated(await broker(), context), request, context),
});
