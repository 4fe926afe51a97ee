/**
 * For infra/scripts/postprovision.sh in a national cloud, where the Graph Bicep extension cannot register the home
 * app: prints, from the compiled broker (dist/, `npm run build`), either the cloud's Microsoft Graph endpoint
 * (`graph`) or the home app's Graph `application` body (`body`): the registration of infra/app/home-app.bicep,
 * with the permissions of the profiles file (src/profiles/registration.ts `graphApplicationBody`).
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

switch (process.argv[2]) {
  case 'graph':
    console.log(cloud.graphEndpoint);
    break;
  case 'body': {
    const profiles = await loadProfiles(process.env.BROKER_PROFILES_FILE?.trim() || undefined, cloud);
    const body = graphApplicationBody(profiles, {
      uniqueName: need('HOME_APP_UNIQUE_NAME'),
      displayName: need('HOME_APP_DISPLAY_NAME'),
      publicUrl: need('BROKER_PUBLIC_URL').replace(/\/+$/, ''),
    });
    console.log(JSON.stringify(body));
    break;
  }
  default:
    console.error('usage: node infra/scripts/home-app-body.mjs graph|body');
    process.exit(2);
}
