/**
 * The Entra ID simulator: a stand-in for https://login.microsoftonline.com speaking its wire protocol —
 * discovery documents and keys (metadata.ts), the token endpoint (token.ts), the admin-consent pages
 * (admin-consent.ts), the OpenID Connect authorization endpoint (authorize.ts) — plus its part of the control surface (control.ts). Shapes, status codes and AADSTS
 * codes follow ../shared/FACTS.md.
 * @module
 */
import type { SimContext } from '../context.js';
import type { SimResponse, SimRoute } from '../common/server.js';
import { adminConsentRoutes } from './admin-consent.js';
import { authorizeRoutes } from './authorize.js';
import { entraControlRoutesFor } from './control.js';
import { deviceCodeRoutes } from './device-code.js';
import { entraErrorBodyFor } from './errors.js';
import { metadataRoutes } from './metadata.js';
import { tokenRoutes } from './token.js';

export function entraRoutes(ctx: SimContext): SimRoute[] {
  return [
    ...metadataRoutes(ctx),
    ...tokenRoutes(ctx),
    ...deviceCodeRoutes(ctx),
    ...adminConsentRoutes(ctx),
    ...authorizeRoutes(ctx),
  ];
}

export function entraControlRoutes(ctx: SimContext): SimRoute[] {
  return entraControlRoutesFor(ctx);
}

/** Entra's OAuth error JSON for faults and unmatched requests (429 / 5xx: temporarily_unavailable). */
export function entraErrorBody(status: number, message: string): SimResponse {
  return entraErrorBodyFor(status, message);
}
