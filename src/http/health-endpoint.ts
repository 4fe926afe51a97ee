/** Renders the health report: 200 while the process is alive, dependency state in the body. @module */
import type { HealthReport } from '../health/health.js';
import { jsonReply, type HttpReply } from './types.js';

export async function healthReply(deps: { health: () => Promise<HealthReport> }): Promise<HttpReply> {
  // 200 even when a dependency is down: the platform's health check must not recycle an instance because
  // Key Vault or Entra ID is having a bad minute; `status` says "degraded" and which one.
  return jsonReply(200, await deps.health(), { 'cache-control': 'no-store' });
}
