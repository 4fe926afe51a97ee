/**
 * The `keyVault` dependency of `/api/health` (src/health/health.ts): Key Vault reachable, and each app credential
 * kept there present and usable.
 * @module
 */
import type { SecretStore } from '../adapters/keyvault/port.js';
import type { BundleApps } from '../credentials/bundle-apps.js';
import { HomeAppCredentialInvalid, loadHomeAppCredential } from '../credentials/home-app.js';
import type { DependencyProbe } from './health.js';

/**
 * Key Vault is up when the broker can authenticate and read: where an app's credential lives there (the home
 * app's, each other bundle's app's), it must exist and be usable (an operator who named a missing secret, or
 * stored a certificate as PKCS#12, sees it here, not at the first consent).
 */
export function keyVaultProbe(apps: BundleApps, secrets: SecretStore): DependencyProbe {
  const inVault = apps.all.filter((a) => a.credential.kind === 'keyVault');
  return {
    name: 'keyVault',
    probe: async () => {
      if (inVault.length === 0) {
        await secrets.get('broker-health-probe');
        return;
      }
      // One read each: missing, or unusable as stored (an expired one is the expiry watch's to report).
      await Promise.all(
        inVault.map((app) =>
          loadHomeAppCredential(app.credential, secrets).catch((err: unknown) => {
            if (!(err instanceof HomeAppCredentialInvalid)) throw err;
            if (err.problem === 'missing')
              throw app.bundle.home ? new HomeAppCredentialMissing() : new BundleAppCredentialMissing();
            if (err.problem !== 'expired') throw err;
          }),
        ),
      );
    },
  };
}

/** A bundle app's Key Vault secret (BUNDLE_<NAME>_CREDENTIAL_NAME) does not exist. */
class BundleAppCredentialMissing extends Error {
  constructor() {
    super('The Key Vault secret named by a BUNDLE_<NAME>_CREDENTIAL_NAME setting does not exist.');
    this.name = 'BundleAppCredentialMissing';
  }
}

class HomeAppCredentialMissing extends Error {
  constructor() {
    super('The Key Vault secret named by HOME_APP_CREDENTIAL_NAME does not exist.');
    this.name = 'HomeAppCredentialMissing';
  }
}
