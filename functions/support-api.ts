/** The support API's tenant and audit routes (src/http/routes/support.ts); behaviour in src/http/. @module */
import './telemetry.js';
import { deleteAppCredential, putAppCredential } from '../src/http/app-credential-api.js';
import { listAudit } from '../src/http/audit-api.js';
import { tenantRoutes } from '../src/http/routes/support.js';
import { deleteTenant, getTenant, listTenants } from '../src/http/support-api.js';
import { registerStaffRoutes } from './staff-routes.js';

registerStaffRoutes(tenantRoutes, {
  listTenants: (b, request) => listTenants(b, request),
  getTenant: (b, request) => getTenant(b, request),
  offboardTenant: (b, request, staff) => deleteTenant(b, request, staff),
  setTenantAppCredential: (b, request, staff) => putAppCredential(b, request, staff),
  removeTenantAppCredential: (b, request, staff) => deleteAppCredential(b, request, staff),
  listAudit: (b, request) => listAudit(b, request),
});
