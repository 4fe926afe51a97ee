/**
 * The sandbox's app registrations of a profiles file's bundles (src/profiles/profiles.ts `Bundle`), as infra/
 * registers them in the vendor's tenant: the home app lists the first bundle's permissions, each other bundle
 * has an app of its own with its bundle's, each with a client secret in the sandbox vault. For a file without
 * bundles, the home app lists every profile (as seeded).
 * @module
 */
import { createHash, randomBytes } from 'node:crypto';
import type { World } from '../simulators/common/world.js';
import { seedVaultSecret } from '../simulators/keyvault/index.js';
import { SANDBOX_IDS } from '../simulators/sandbox.js';
import { bundleSettingName } from '../src/config.js';
import type { Bundle, Profiles } from '../src/profiles/profiles.js';
import { bundleRegistration, homeAppRedirectUris } from '../src/profiles/registration.js';

/** A bundle app's permissions in the simulator's terms: role and scope values by resource app id. */
export function simulatedPermissions(
  profiles: Profiles,
  bundle: Bundle,
): { requiredRoles: Record<string, string[]>; requiredScopes: Record<string, string[]> } {
  const r = bundleRegistration(profiles, bundle);
  const requiredRoles: Record<string, string[]> = {};
  for (const g of r.applicationPermissions)
    requiredRoles[g.resource.appId] = [
      ...(requiredRoles[g.resource.appId] ?? []),
      ...g.roles.map((x) => x.value),
    ];
  const requiredScopes: Record<string, string[]> = {
    [r.signInResourceAppId]: r.signInScopes.map((s) => s.value),
  };
  for (const g of r.delegatedPermissions)
    requiredScopes[g.resource.appId] = [
      ...(requiredScopes[g.resource.appId] ?? []),
      ...g.scopes.map((x) => x.value),
    ];
  return { requiredRoles, requiredScopes };
}

/** The same bundle, the same app id in every sandbox (a name-based id under the home app's). */
export function sandboxBundleAppId(bundle: string): string {
  const h = createHash('sha256').update(`${SANDBOX_IDS.homeAppId}/${bundle}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Registers the bundles' apps in `world` (again on a restart: their permissions follow the file) and returns
 * the settings that name them (BUNDLE_<NAME>_CLIENT_ID, BUNDLE_<NAME>_CREDENTIAL_NAME).
 */
export function seedBundleApps(world: World, profiles: Profiles, publicUrl: string): Record<string, string> {
  const home = world.apps.get(SANDBOX_IDS.homeAppId);
  if (!home) throw new Error('the sandbox world has no home app: remove .data/sandbox to seed it anew');
  Object.assign(home, simulatedPermissions(profiles, profiles.bundles[0]!));
  const env: Record<string, string> = {};
  for (const bundle of profiles.bundles.slice(1)) {
    const appId = sandboxBundleAppId(bundle.name);
    let app = world.apps.get(appId);
    app ??= world.addApp({
      appId,
      displayName: `Northwind PBX Connector: ${bundle.title}`,
      homeTenantId: SANDBOX_IDS.vendorTenantId,
      multitenant: true,
      groupMembershipClaims: 'DirectoryRole',
      idTokenOptionalClaims: ['acct'],
    });
    Object.assign(app, simulatedPermissions(profiles, bundle), {
      redirectUris: homeAppRedirectUris(publicUrl),
    });
    const secret =
      app.secrets.at(-1)?.value ?? world.addSecret(app, randomBytes(30).toString('base64url')).value;
    const name = bundleSettingName(bundle.name);
    const credentialName = `bundle-${bundle.name}-credential`;
    seedVaultSecret(world, credentialName, secret);
    env[`BUNDLE_${name}_CLIENT_ID`] = appId;
    env[`BUNDLE_${name}_CREDENTIAL_NAME`] = credentialName;
  }
  return env;
}
