/** Microsoft Graph simulator (placeholder until its implementation lands). @module */
import type { SimContext } from '../context.js';
import { json, type SimResponse, type SimRoute } from '../common/server.js';

export function graphRoutes(_ctx: SimContext): SimRoute[] {
  return [];
}
export function graphErrorBody(status: number, message: string): SimResponse {
  return json(status, { error: { code: 'generalException', message } });
}
