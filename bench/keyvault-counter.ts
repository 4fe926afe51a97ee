/**
 * Counts the requests the Key Vault simulator receives, from outside the broker, as bench/entra-counter.ts
 * counts Entra's: every request to a simulator passes `World.takeFault` before it is routed
 * (simulators/common/server.ts). Each is one Key Vault operation (get, set, recover: billed per operation).
 * @module
 */
import type { World } from '../simulators/common/world.js';

export interface KeyVaultCounter {
  /** Requests since start. */
  total(): number;
}

export function countKeyVaultRequests(world: World): KeyVaultCounter {
  let total = 0;
  const original = world.takeFault.bind(world);
  world.takeFault = (target, path, body) => {
    if (target === 'keyvault') total += 1;
    return original(target, path, body);
  };
  return { total: () => total };
}
