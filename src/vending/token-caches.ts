/**
 * One token cache per bundle app (src/credentials/bundle-apps.ts): a token of one app carries that app's roles
 * only, so (tenant, scope) names a token within one app. Each cache asks Entra with its own app.
 * @module
 */
import type { EntraTokens } from '../adapters/entra/port.js';
import type { TokenCache, TokenCacheStats } from './token-cache-contract.js';

export interface TokenCaches {
  /** The cache of the app with that client id (the home app's when undefined). */
  of(app: string | undefined): TokenCache;
  /** Drops what every app's cache holds for the tenant. */
  forgetTenant(tenantId: string): void;
  /** The sum over the apps' caches. */
  stats(): TokenCacheStats;
  close(): void;
}

export function createTokenCaches(
  clientIds: readonly string[],
  entra: EntraTokens,
  create: (entra: EntraTokens, clientId: string) => TokenCache,
): TokenCaches {
  const caches = new Map(
    clientIds.map((app) => [
      app,
      create(
        {
          acquireAppToken: (tenantId, scope, options) =>
            entra.acquireAppToken(tenantId, scope, { ...options, app }),
        },
        app,
      ),
    ]),
  );
  const home = caches.get(clientIds[0]!)!;
  const all = [...caches.values()];
  return {
    of(app) {
      if (app === undefined) return home;
      const cache = caches.get(app);
      if (!cache) throw new Error(`No bundle app ${app} is configured.`);
      return cache;
    },
    forgetTenant: (tenantId) => all.forEach((c) => c.forgetTenant(tenantId)),
    stats: () =>
      all
        .map((c) => c.stats())
        .reduce((a, b) => ({
          entraRequests: a.entraRequests + b.entraRequests,
          hits: a.hits + b.hits,
          misses: a.misses + b.misses,
          size: a.size + b.size,
          maxEntries: a.maxEntries + b.maxEntries,
        })),
    close: () => all.forEach((c) => c.close()),
  };
}
