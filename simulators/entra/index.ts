/** Entra ID simulator (placeholder until its implementation lands). @module */
import type { SimContext } from '../context.js';
import { json, type SimResponse, type SimRoute } from '../common/server.js';

export function entraRoutes(_ctx: SimContext): SimRoute[] {
  return [];
}
export function entraControlRoutes(_ctx: SimContext): SimRoute[] {
  return [];
}
export function entraErrorBody(status: number, message: string): SimResponse {
  return json(status, { error: 'invalid_request', error_description: message });
}
