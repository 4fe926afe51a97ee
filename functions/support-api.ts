/** The support API's routes (SPEC.md "Vendor support"); behaviour lives in src/http/support-api.ts. @module */
import './telemetry.js';
import { app } from '@azure/functions';
import { deleteAppCredential, putAppCredential } from '../src/http/app-credential-api.js';
import { listAudit } from '../src/http/audit-api.js';
import { asStaff, deleteTenant, getTenant, listTenants } from '../src/http/support-api.js';
import { broker, correlated } from './runtime.js';

app.http('listTenants', {
  methods: ['GET'],
  route: 'api/tenants',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Read', context, () => listTenants(b, request));
  },
});

app.http('getTenant', {
  methods: ['GET'],
  route: 'api/tenants/{tenantId}',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Read', context, () => getTenant(b, request));
  },
});

app.http('listAudit', {
  methods: ['GET'],
  route: 'api/audit',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Read', context, () => listAudit(b, request));
  },
});

app.http('offboardTenant', {
  methods: ['DELETE'],
  route: 'api/tenants/{tenantId}',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Admin', context, (staff) => deleteTenant(b, request, staff));
  },
});

app.http('setTenantAppCredential', {
  methods: ['PUT'],
  route: 'api/tenants/{tenantId}/app-credential',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Admin', context, (staff) => putAppCredential(b, request, staff));
  },
});

app.http('removeTenantAppCredential', {
  methods: ['DELETE'],
  route: 'api/tenants/{tenantId}/app-credential',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Admin', context, (staff) => deleteAppCredential(b, request, staff));
  },
});
