/** Key Vault simulator (placeholder until its implementation lands). @module */
import type { SimContext } from '../context.js';
import { json, type SimResponse, type SimRoute } from '../common/server.js';

export function keyVaultRoutes(_ctx: SimContext): SimRoute[] {
  return [];
}
export function keyVaultErrorBody(status: number, message: string): SimResponse {
  return json(status, { error: { code: 'BadRequest', message } });
}
