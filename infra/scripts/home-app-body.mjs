/**
 * For infra/scripts/postprovision.sh (and .ps1): prints, from the compiled broker (dist/, `npm run build`), one of
 *   graph            the cloud's Microsoft Graph endpoint;
 *   body [bundle]    the Graph `application` body of the home app (the registration of infra/app/home-app.bicep,
 *                    with the permissions of the profiles file: src/profiles/registration.ts
 *                    `graphApplicationBody`), for a national cloud where the Graph Bicep extension cannot register
 *                    it; or, naming another bundle of the profiles file, that bundle's app (unique name
 *                    HOME_APP_UNIQUE_NAME-<bundle>, display name "HOME_APP_DISPLAY_NAME (<bundle title>)");
 *   access           the home app's `requiredResourceAccess` alone (its bundle's permissions);
 *   bundles          the profiles file's bundles, one line each: name, TAB, its settings' spelling (BUNDLE_<that>_*).
 *
 * Environment: BROKER_CLOUD, BROKER_PUBLIC_URL, HOME_APP_UNIQUE_NAME, HOME_APP_DISPLAY_NAME (main.bicep outputs);
 * BROKER_PROFILES_FILE (optional, the vendor's profiles file).
 * @module
 */
import console from 'node:console';
import process from 'node:process';

const { CLOUD_NAMES, cloudNamed } = await import('../../dist/src/cloud/clouds.js');
const { loadProfiles } = await import('../../dist/src/profiles/profiles.js');
const { graphApplicationBody } = await import('../../dist/src/profiles/registration.js');
const { bundleSettingName } = await import('../../dist/src/config-apps.js');

const need = (name) => {
  const value = process.env[name]?.trim();
  if (!value) {
    console.error(`${name} is not set (main.bicep output)`);
    process.exit(2);
  }
  return value;
};

const cloudName = need('BROKER_CLOUD');
if (!CLOUD_NAMES.includes(cloudName)) {
  console.error(`BROKER_CLOUD must be one of ${CLOUD_NAMES.join(', ')}, got "${cloudName}"`);
  process.exit(2);
}
const cloud = cloudNamed(cloudName);

const readProfiles = () => loadProfiles(process.env.BROKER_PROFILES_FILE?.trim() || undefined, cloud);

switch (process.argv[2]) {
  case 'graph':
    console.log(cloud.graphEndpoint);
    break;
  case 'body': {
    const profiles = await readProfiles();
    const bundle = process.argv[3]
      ? profiles.bundles.find((b) => b.name === process.argv[3])
      : profiles.bundles[0];
    if (!bundle) {
      console.error(`the profiles file has no bundle "${process.argv[3]}"`);
      process.exit(2);
    }
    const uniqueName = need('HOME_APP_UNIQUE_NAME');
    const displayName = need('HOME_APP_DISPLAY_NAME');
    const app = bundle.home
      ? { uniqueName, displayName }
      : { uniqueName: `${uniqueName}-${bundle.name}`, displayName: `${displayName} (${bundle.title})` };
    const body = graphApplicationBody(
      profiles,
      { ...app, publicUrl: need('BROKER_PUBLIC_URL').replace(/\/+$/, '') },
      bundle,
    );
    console.log(JSON.stringify(body));
    break;
  }
  case 'access': {
    const profiles = await readProfiles();
    const body = graphApplicationBody(profiles, {
      uniqueName: 'x',
      displayName: 'x',
      publicUrl: 'https://x',
    });
    console.log(JSON.stringify(body.requiredResourceAccess));
    break;
  }
  case 'bundles': {
    const profiles = await readProfiles();
    for (const b of profiles.bundles) console.log(`${b.name}\t${bundleSettingName(b.name)}`);
    break;
  }
  default:
    console.error('usage: node infra/scripts/home-app-body.mjs graph|body [bundle]|access|bundles');
    process.exit(2);
}
