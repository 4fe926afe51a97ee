/** Support API for appliances (SPEC.md "Vendor support"); behaviour in src/http/appliances-api.ts. @module */
import './telemetry.js';
import { app } from '@azure/functions';
import {
  deleteAppliance,
  getAppliance,
  listAppliances,
  postAppliance,
  postApplianceSecret,
} from '../src/http/appliances-api.js';
import { asStaff } from '../src/http/support-api.js';
import { broker, correlated } from './runtime.js';

app.http('createAppliance', {
  methods: ['POST'],
  route: 'api/appliances',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Admin', context, (staff) => postAppliance(b, request, staff));
  },
});

app.http('listAppliances', {
  methods: ['GET'],
  route: 'api/appliances',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Read', context, () => listAppliances(b, request));
  },
});

app.http('getAppliance', {
  methods: ['GET'],
  route: 'api/appliances/{clientId}',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Read', context, () => getAppliance(b, request));
  },
});

app.http('revokeAppliance', {
  methods: ['DELETE'],
  route: 'api/appliances/{clientId}',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Admin', context, (staff) => deleteAppliance(b, request, staff));
  },
});

app.http('rotateApplianceSecret', {
  methods: ['POST'],
  route: 'api/appliances/{clientId}/secret',
  authLevel: 'anonymous',
  handler: async (request, context) => {
    const b = correlated(await broker(), context);
    return asStaff(b, request, 'Broker.Admin', context, (staff) => postApplianceSecret(b, request, staff));
  },
});
