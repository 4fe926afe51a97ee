/**
 * The support API's live checks (src/http/routes/support.ts); behaviour lives in src/http/checks-api.ts.
 * Both need Broker.Read: a check records only what Microsoft already shows (see postTenantCheck).
 * @module
 */
import './telemetry.js';
import { getExchangeSetupScript, postTenantCheck } from '../src/http/checks-api.js';
import { checkRoutes } from '../src/http/routes/support.js';
import { registerStaffRoutes } from './staff-routes.js';

registerStaffRoutes(checkRoutes, {
  checkTenant: (b, request, staff) => postTenantCheck(b, request, staff),
  exchangeSetupScript: (b, request) => getExchangeSetupScript(b, request),
});
