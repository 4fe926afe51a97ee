/**
 * The settings of the apps the broker acts as (src/config.ts reads them): the home app's credential and the
 * apps of a profiles file's other bundles (src/profiles/bundles.ts).
 * @module
 */

export type HomeAppCredentialSource =
  | { readonly kind: 'secret'; readonly secret: string }
  | {
      readonly kind: 'keyVault';
      readonly name: string;
      /** The setting that named it, for messages (absent: HOME_APP_CREDENTIAL_NAME). */
      readonly setting?: string;
    };

export interface BundleAppSettings {
  readonly clientId: string;
  readonly credential: HomeAppCredentialSource;
}

/** The settings' spelling of a bundle name: upper case, dashes as underscores. */
export const bundleSettingName = (bundle: string): string => bundle.toUpperCase().replace(/-/g, '_');

/**
 * `HOME_APP_CLIENT_SECRET` / `HOME_APP_CREDENTIAL_NAME`, and each `BUNDLE_<NAME>_CLIENT_ID` with its credential
 * spelt as the home app's. Which bundles need an app is known once the profiles are read
 * (src/credentials/bundle-apps.ts); here each is only read and checked for shape. Problems go to `problems`.
 */
export function appCredentialSettings(
  env: Readonly<Record<string, string | undefined>>,
  get: (name: string) => string | undefined,
  guid: (name: string, value: string) => string,
  problems: string[],
): { homeAppCredential: HomeAppCredentialSource; bundleApps: Map<string, BundleAppSettings> } {
  // A client secret given directly, or the name of a Key Vault secret or certificate holding the credential.
  const credentialSetting = (
    secretName: string,
    credentialNameName: string,
    missing: string,
  ): HomeAppCredentialSource => {
    const secret = get(secretName);
    const credentialName = get(credentialNameName);
    if (secret && credentialName)
      problems.push(`${secretName} and ${credentialNameName} are both set: set only one`);
    else if (secret) return { kind: 'secret', secret };
    else if (credentialName) {
      // Key Vault object names: 1-127 characters, alphanumerics and dashes.
      if (!/^[0-9a-zA-Z-]{1,127}$/.test(credentialName))
        problems.push(
          `${credentialNameName} must be a Key Vault secret name (letters, digits, dashes), got "${credentialName}"`,
        );
      return { kind: 'keyVault', name: credentialName, setting: credentialNameName };
    } else problems.push(missing);
    return { kind: 'secret', secret: '' };
  };
  const homeAppCredential = credentialSetting(
    'HOME_APP_CLIENT_SECRET',
    'HOME_APP_CREDENTIAL_NAME',
    'HOME_APP_CREDENTIAL_NAME (a Key Vault secret or certificate name) or HOME_APP_CLIENT_SECRET is not set',
  );
  const bundleApps = new Map<string, BundleAppSettings>();
  for (const name of Object.keys(env)) {
    const m = /^BUNDLE_([A-Z0-9_]+)_CLIENT_ID$/.exec(name);
    const value = get(name);
    if (!m || !value) continue;
    const prefix = `BUNDLE_${m[1]}`;
    bundleApps.set(m[1]!, {
      clientId: guid(name, value),
      credential: credentialSetting(
        `${prefix}_CLIENT_SECRET`,
        `${prefix}_CREDENTIAL_NAME`,
        `${prefix}_CREDENTIAL_NAME or ${prefix}_CLIENT_SECRET is not set`,
      ),
    });
  }
  return { homeAppCredential, bundleApps };
}
