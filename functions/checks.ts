/**
 * The support API's live checks (SPEC.md "Vendor support"); behaviour lives in src/http/checks-api.ts.
 * Both need Broker.Read: a check records only what Microsoft already shows (see postTenantCheck).
 * @module
 */
import './telemetry.js';
import { app } from '@azure/functions';
import { getExchangeSetupScript, postTenantCheck } from '../src/http/checks-api.js';
import { asStaff } from '../src/http/support-api.js';
import { broker, correlated } from './runtime.js';

app.http('checkTenant', {
  methods: ['POST'],
  route: 'api/tenants/{tenantId}/check',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Read', context, (staff) => postTenantCheck(b, request, staff));
  },
});

app.http('exchangeSetupScript', {
  methods: ['GET'],
  route: 'api/tenants/{tenantId}/exchange-setup.ps1',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Read', context, () => getExchangeSetupScript(b, request));
  },
});
