/** Support API for appliances (src/http/routes/support-appliances.ts); behaviour in src/http/appliances-api.ts. @module */
import './telemetry.js';
import {
  deleteAppliance,
  getAppliance,
  listAppliances,
  postAppliance,
  postApplianceSecret,
} from '../src/http/appliances-api.js';
import { applianceRoutes } from '../src/http/routes/support-appliances.js';
import { registerStaffRoutes } from './staff-routes.js';

registerStaffRoutes(applianceRoutes, {
  createAppliance: (b, request, staff) => postAppliance(b, request, staff),
  listAppliances: (b, request) => listAppliances(b, request),
  getAppliance: (b, request) => getAppliance(b, request),
  revokeAppliance: (b, request, staff) => deleteAppliance(b, request, staff),
  rotateApplianceSecret: (b, request, staff) => postApplianceSecret(b, request, staff),
});
