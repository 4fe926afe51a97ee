/**
 * Counts the token requests the Entra ID simulator receives, from outside the broker: every request to a
 * simulator other than the control surface passes `World.takeFault` before it is routed
 * (simulators/common/server.ts), so wrapping that method on the bench's own World instance sees each one.
 * Counted: POSTs to a token endpoint (`/{tenant}/oauth2/v2.0/token` or `/{tenant}/oauth2/token`), by tenant.
 * @module
 */
import type { World } from '../simulators/common/world.js';

export interface EntraCounter {
  /** Token requests since start, all tenants and clients. */
  total(): number;
  /** Token requests since start for one tenant (id as in the path, lower case). */
  forTenant(tenantId: string): number;
  /** Token requests since start by "tenant scope" (the form's `scope`), to tell what caused them. */
  byTenantAndScope(): ReadonlyMap<string, number>;
}

const TOKEN_PATH = /^\/([^/]+)\/oauth2(?:\/v2\.0)?\/token$/;

export function countEntraTokenRequests(world: World): EntraCounter {
  const byTenant = new Map<string, number>();
  const byTenantAndScope = new Map<string, number>();
  let total = 0;
  const original = world.takeFault.bind(world);
  world.takeFault = (target, path, body) => {
    const match = target === 'entra' ? TOKEN_PATH.exec(path) : null;
    if (match) {
      total += 1;
      const tenant = match[1]!.toLowerCase();
      byTenant.set(tenant, (byTenant.get(tenant) ?? 0) + 1);
      const key = `${tenant} ${new URLSearchParams(body).get('scope') ?? '(no scope)'}`;
      byTenantAndScope.set(key, (byTenantAndScope.get(key) ?? 0) + 1);
    }
    return original(target, path, body);
  };
  return {
    total: () => total,
    forTenant: (id) => byTenant.get(id.toLowerCase()) ?? 0,
    byTenantAndScope: () => new Map(byTenantAndScope),
  };
}
