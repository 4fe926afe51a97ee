/**
 * Microsoft Graph simulator: stands for https://graph.microsoft.com/v1.0 with the calls the broker makes
 * (FACTS.md §7): the organization, service principals and their app role assignments, and a user's mail folder
 * (the mailbox probe), plus Exchange Web Services' `POST /EWS/Exchange.asmx` (ews.ts: this server stands for
 * Microsoft's cloud endpoints, https://outlook.office365.com included). Every Graph call needs a bearer token signed by the simulated Entra ID for Graph; its `tid`
 * picks the tenant and its `roles` the permissions. Faults are applied by simulators/common/server.ts before these
 * routes, shaped by {@link graphErrorBody}.
 * @module
 */
import type { SimResponse, SimRoute } from '../common/server.js';
import type { SimContext } from '../context.js';
import { authenticate } from './auth.js';
import { codeForStatus, errorResponse, GraphFailure, graphRoute } from './errors.js';
import { ewsRoutes } from './ews.js';
import { mailFolderRoutes } from './mail-folders.js';
import { organizationRoutes } from './organization.js';
import {
  appIdKey,
  getServicePrincipal,
  listAppRoleAssignments,
  servicePrincipalRoutes,
} from './service-principals.js';

export function graphRoutes(ctx: SimContext): SimRoute[] {
  return [
    ...organizationRoutes(ctx),
    ...servicePrincipalRoutes(ctx),
    ...mailFolderRoutes(ctx),
    ...ewsRoutes(ctx),
    // Key-as-segment addressing: servicePrincipals(appId='…') (serviceprincipal-get.md).
    graphRoute('GET', '/v1.0/{segment}', (req) => {
      const appId = appIdKey(req.params.segment!);
      if (appId !== undefined) return getServicePrincipal(ctx, req, { by: 'appId', value: appId });
      return unknownSegment(ctx, req.params.segment!, req);
    }),
    graphRoute('GET', '/v1.0/{segment}/appRoleAssignments', (req) => {
      const appId = appIdKey(req.params.segment!);
      if (appId !== undefined) return listAppRoleAssignments(ctx, req, { by: 'appId', value: appId });
      return unknownSegment(ctx, req.params.segment!, req);
    }),
    ...unknownPathRoutes(ctx),
  ];
}

/** Graph's error body for a bare status: faults, unknown methods (codes: {@link codeForStatus}). */
export function graphErrorBody(status: number, message: string): SimResponse {
  return errorResponse(status, codeForStatus(status), message);
}

/**
 * Any other GET: Graph answers 400 "Resource not found for the segment '…'." (widely quoted; third-party only)
 * for a path it cannot resolve, and 400 for an unknown version (wording **unverified**). The token is checked
 * first, so an anonymous probe still meets a 401.
 */
function unknownPathRoutes(ctx: SimContext): SimRoute[] {
  const routes: SimRoute[] = [];
  for (let depth = 1; depth <= 8; depth++) {
    const path = Array.from({ length: depth }, (_, i) => `/{s${i}}`).join('');
    routes.push(
      graphRoute('GET', path, async (req) => {
        const segments = Array.from({ length: depth }, (_, i) => req.params[`s${i}`]!);
        if (segments[0] !== 'v1.0') {
          await authenticate(ctx, req);
          throw new GraphFailure(400, 'BadRequest', `Invalid version: ${segments[0]}`);
        }
        // The first segment Graph cannot resolve: an unknown entity set, or what follows a known one.
        const known = ['organization', 'servicePrincipals', 'users', 'me'].includes(segments[1] ?? '');
        return unknownSegment(ctx, (known ? segments[depth - 1] : segments[1]) ?? '', req);
      }),
    );
  }
  return routes;
}

async function unknownSegment(
  ctx: SimContext,
  segment: string,
  req: Parameters<typeof authenticate>[1],
): Promise<SimResponse> {
  await authenticate(ctx, req);
  throw new GraphFailure(400, 'BadRequest', `Resource not found for the segment '${segment}'.`);
}
