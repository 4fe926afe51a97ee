/**
 * The apps of the profiles' bundles (src/profiles/profiles.ts `Bundle`; issue 23 "Home apps per bundle"): the
 * first bundle is served by the home app (HOME_APP_CLIENT_ID and its credential), each other one by its own
 * multitenant registration (BUNDLE_<NAME>_CLIENT_ID and BUNDLE_<NAME>_CLIENT_SECRET or _CREDENTIAL_NAME), each
 * credential read, re-read after rotation and watched for expiry as the home app's is (src/credentials/home-app.ts).
 *
 * Entra binds consent, tokens and refresh tokens to one client id, so everything done in a tenant for a profile
 * is done with its bundle's app: the admin consent, the proof, the tokens vended, the checks, the user sign-ins
 * of its delegated profiles. Callers name the app by client id (`AcquireOptions.app`, `request.app`); none named
 * is the home app.
 * @module
 */
import type { AcquireOptions, AppToken, EntraTokens } from '../adapters/entra/port.js';
import type { AdminSignIn } from '../adapters/entra/sign-in.js';
import { bundleSettingName, ConfigError, type Config, type HomeAppCredentialSource } from '../config.js';
import type { Bundle, Profiles } from '../profiles/profiles.js';

export interface BundleApp {
  readonly bundle: Bundle;
  readonly clientId: string;
  readonly credential: HomeAppCredentialSource;
  /** The settings' prefix of its client id and credential (`HOME_APP`, `BUNDLE_MAIL`), for messages. */
  readonly settingPrefix: string;
}

export interface BundleApps {
  /** In bundle order, the home app's first. */
  readonly all: readonly BundleApp[];
  readonly home: BundleApp;
  /** The app of the bundle holding the profile. */
  forProfile(profileName: string): BundleApp;
  /** The apps `profileNames` need, in bundle order. */
  forProfiles(profileNames: readonly string[]): BundleApp[];
  /** The app of that client id, or undefined. */
  byClientId(clientId: string): BundleApp | undefined;
}

/**
 * Each bundle's app from the settings; a bundle without its settings, or two bundles with one app, stop the
 * broker with a ConfigError naming the settings to set.
 */
export function bundleApps(
  profiles: Profiles,
  config: Pick<Config, 'homeAppClientId' | 'homeAppCredential' | 'bundleApps'>,
): BundleApps {
  const problems: string[] = [];
  const all: BundleApp[] = profiles.bundles.map((bundle) => {
    if (bundle.home)
      return {
        bundle,
        clientId: config.homeAppClientId.toLowerCase(),
        credential: config.homeAppCredential,
        settingPrefix: 'HOME_APP',
      };
    const name = bundleSettingName(bundle.name);
    const settings = config.bundleApps.get(name);
    if (!settings)
      problems.push(
        `BUNDLE_${name}_CLIENT_ID is not set: bundle "${bundle.name}" of the profiles file is served by an app registration of its own (and BUNDLE_${name}_CREDENTIAL_NAME or BUNDLE_${name}_CLIENT_SECRET)`,
      );
    return {
      bundle,
      clientId: settings?.clientId.toLowerCase() ?? '',
      credential: settings?.credential ?? { kind: 'secret', secret: '' },
      settingPrefix: `BUNDLE_${name}`,
    };
  });
  const seen = new Map<string, string>();
  for (const app of all) {
    if (!app.clientId) continue;
    const other = seen.get(app.clientId);
    // One app for two bundles would grant both with one consent: no less than one home app.
    if (other)
      problems.push(
        `${app.settingPrefix}_CLIENT_ID is ${other}'s app too: each bundle needs an app of its own`,
      );
    seen.set(app.clientId, `${app.settingPrefix}_CLIENT_ID`);
  }
  const known = new Set(profiles.bundles.map((b) => bundleSettingName(b.name)));
  for (const name of config.bundleApps.keys())
    if (!known.has(name)) problems.push(`BUNDLE_${name}_CLIENT_ID names no bundle of the profiles file`);
  if (problems.length) throw new ConfigError(problems);
  const byBundle = new Map(all.map((a) => [a.bundle, a]));
  const byClient = new Map(all.map((a) => [a.clientId, a]));
  return {
    all,
    home: all[0]!,
    forProfile: (name) => byBundle.get(profiles.bundleOf(name))!,
    forProfiles: (names) => profiles.bundlesFor(names).map((b) => byBundle.get(b)!),
    byClientId: (clientId) => byClient.get(clientId.toLowerCase()),
  };
}

/** The credentials of the bundles after the first, for the expiry watch (src/credentials/expiry.ts). */
export function bundleCredentials(
  apps: Pick<BundleApps, 'all'>,
): { readonly bundle: string; readonly credential: HomeAppCredentialSource }[] {
  return apps.all.slice(1).map((a) => ({ bundle: a.bundle.name, credential: a.credential }));
}

/** EntraTokens that answer with the app `options.app` names (the home app's when none). */
export function routeEntraByApp(apps: ReadonlyMap<string, EntraTokens>, homeClientId: string): EntraTokens {
  const home = apps.get(homeClientId)!;
  return {
    acquireAppToken(tenantId: string, scope: string, options?: AcquireOptions): Promise<AppToken> {
      if (options?.app === undefined || options.app === homeClientId)
        return home.acquireAppToken(tenantId, scope, options);
      const tokens = apps.get(options.app);
      if (!tokens) return Promise.reject(new Error(`No bundle app ${options.app} is configured.`));
      return tokens.acquireAppToken(tenantId, scope, options);
    },
  };
}

/** An AdminSignIn that signs in with the app each request names (the home app's when none). */
export function routeSignInByApp(apps: ReadonlyMap<string, AdminSignIn>, homeClientId: string): AdminSignIn {
  const pick = (app: string | undefined): AdminSignIn => {
    const signIn = apps.get(app ?? homeClientId);
    if (!signIn) throw new Error(`No bundle app ${app} is configured.`);
    return signIn;
  };
  return {
    authorizationUrl: async (r) => pick(r.app).authorizationUrl(r),
    redeemCode: async (r) => pick(r.app).redeemCode(r),
    redeemGrantCode: async (r) => pick(r.app).redeemGrantCode(r),
    redeemRefreshToken: async (r) => pick(r.app).redeemRefreshToken(r),
  };
}
