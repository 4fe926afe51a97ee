/**
 * infra/scripts/postprovision.sh with a profiles file of three bundles (docs/examples/bundles.profiles.json),
 * against a stand-in `az` and `azd` that keep what they are sent: the hook narrows the home app to its bundle's
 * permissions, upserts each other bundle's app by its unique name with that bundle's registration, stores a client
 * secret of each in Key Vault under its own name (never printed), sets the Functions app's BUNDLE_<NAME>_* settings
 * and hands the client ids to azd (BUNDLE_APP_IDS) for main.bicep. Run again, it registers the same and adds no
 * secret and no setting.
 * @module
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfiles } from '../../src/profiles/profiles.js';
import { graphApplicationBody } from '../../src/profiles/registration.js';
import { repoRoot } from './bicep.js';
import { hookTree } from './hook-tree.js';

const run = promisify(execFile);
const HOME = '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250';
const SECRET = 'Qx8~fake-bundle-secret-value.1234567890';
const PROFILES = 'docs/examples/bundles.profiles.json';

/** State in $FAKE_AZ: calls, app-<uniqueName>.json, ids (uniqueName appId), secret-<name>, settings. */
const FAKE_AZ = `#!/usr/bin/env bash
state="$FAKE_AZ"
echo "$*" >>"$state/calls"
arg() { local want="$1"; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
case "$1 $2" in
  "ad app")
    case "$3" in
      show) echo true ;;
      update) access=$(arg --required-resource-accesses "$@"); [ -z "$access" ] || cp "\${access#@}" "$state/home-access.json" ;;
      credential)
        case "$4" in
          reset) printf '%s-%s\\n' "$FAKE_SECRET" "$(arg --id "$@")" ;;
          list) echo "2027-11-24T23:00:00+00:00" ;;
        esac ;;
    esac ;;
  "keyvault secret")
    name=$(arg --name "$@")
    case "$3" in
      show) if [ -f "$state/secret-$name" ]; then echo "null|2099-01-01T00:00:00+00:00"; else echo "ERROR: (SecretNotFound) was not found" >&2; exit 3; fi ;;
      set) cp "$(arg --file "$@")" "$state/secret-$name" ;;
    esac ;;
  "rest --method")
    url=$(arg --url "$@"); unique=\${url#*uniqueName=\\'}; unique=\${unique%%\\'*}
    case "$3" in
      patch) body=$(arg --body "$@"); cp "\${body#@}" "$state/app-$unique.json"
        grep -q "^$unique " "$state/ids" 2>/dev/null || echo "$unique $(cat /proc/sys/kernel/random/uuid)" >>"$state/ids" ;;
      get) grep "^$unique " "$state/ids" | cut -d ' ' -f 2 ;;
    esac ;;
  "functionapp config")
    case "$4" in
      list) q=$(arg --query "$@"); key=\${q#*name==\\'}; key=\${key%%\\'*}; grep "^$key=" "$state/settings" 2>/dev/null | cut -d = -f 2- ;;
      set) shift 4; while [ $# -gt 0 ]; do case "$1" in --settings) shift; while [ $# -gt 0 ] && [ "\${1#--}" = "$1" ]; do echo "$1" >>"$state/settings"; shift; done ;; *) shift ;; esac; done ;;
    esac ;;
  *) echo "unexpected az call: $*" >&2; exit 2 ;;
esac
`;
const FAKE_AZD = `#!/usr/bin/env bash
echo "$*" >>"$FAKE_AZ/azd"
`;

let dir: string;
let tree: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'broker-postprovision-bundles-'));
  await writeFile(join(dir, 'az'), FAKE_AZ);
  await writeFile(join(dir, 'azd'), FAKE_AZD);
  await chmod(join(dir, 'az'), 0o755);
  await chmod(join(dir, 'azd'), 0o755);
  // The hook's own tree with a build of its own (as test/infra/postprovision-national.test.ts), and the profiles.
  tree = join(dir, 'repo');
  await hookTree(tree, [PROFILES]);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function runHook(state: string) {
  const { stdout, stderr } = await run(join(tree, 'infra/scripts/postprovision.sh'), [], {
    cwd: tree,
    env: {
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      HOME: dir,
      TMPDIR: state,
      FAKE_AZ: state,
      FAKE_SECRET: SECRET,
      BROKER_CLOUD: 'AzureCloud',
      BROKER_PUBLIC_URL: 'https://broker.example.com',
      BROKER_PROFILES_FILE: PROFILES,
      HOME_APP_CLIENT_ID: HOME,
      HOME_APP_UNIQUE_NAME: 'consent-broker-abc123',
      HOME_APP_DISPLAY_NAME: 'Consent Broker',
      AZURE_FUNCTION_APP_NAME: 'func-broker-abc123',
      AZURE_RESOURCE_GROUP: 'rg-broker',
      KEY_VAULT_NAME: 'kv-broker-test',
      HOME_APP_CREDENTIAL_NAME: 'home-app-credential',
    },
  });
  const calls = (await readFile(join(state, 'calls'), 'utf8')).trim().split('\n');
  return { output: stdout + stderr, calls };
}

const ids = async (state: string) =>
  new Map(
    (await readFile(join(state, 'ids'), 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]),
  );

describe('postprovision.sh with a profiles file of three bundles', () => {
  it('registers each other bundle app, stores its secret, sets its settings, and narrows the home app', async () => {
    const state = await mkdtemp(join(dir, 'state-'));
    const first = await runHook(state);
    const profiles = await loadProfiles(join(repoRoot, PROFILES));
    const [home, calendar, ews] = profiles.bundles;

    // The home app: its own bundle's permissions only (no Graph Mail.ReadWrite, no full_access_as_app).
    const access = JSON.parse(await readFile(join(state, 'home-access.json'), 'utf8')) as unknown;
    const app = {
      uniqueName: 'consent-broker-abc123',
      displayName: 'Consent Broker',
      publicUrl: 'https://broker.example.com',
    };
    expect(access).toEqual(graphApplicationBody(profiles, app, home).requiredResourceAccess);
    expect(JSON.stringify(access)).not.toContain('dc890d15-9560-4a4c-9b7f-a736ec74ec40');

    // Each other bundle: upserted by its unique name with that bundle's registration.
    const registered = await ids(state);
    expect([...registered.keys()].sort()).toEqual([
      'consent-broker-abc123-calendar',
      'consent-broker-abc123-ews',
    ]);
    for (const bundle of [calendar!, ews!]) {
      const unique = `consent-broker-abc123-${bundle.name}`;
      const sent = JSON.parse(await readFile(join(state, `app-${unique}.json`), 'utf8')) as unknown;
      expect(sent).toEqual(
        graphApplicationBody(
          profiles,
          { uniqueName: unique, displayName: `Consent Broker (${bundle.title})`, publicUrl: app.publicUrl },
          bundle,
        ),
      );
      expect(
        first.calls.some((c) =>
          c.startsWith(
            `rest --method patch --resource https://graph.microsoft.com --url https://graph.microsoft.com/v1.0/applications(uniqueName='${unique}') --headers Prefer=create-if-missing Content-Type=application/json`,
          ),
        ),
      ).toBe(true);
      // Its own client secret, stored as the plain text under its own name.
      const id = registered.get(unique)!;
      expect(await readFile(join(state, `secret-home-app-credential-${bundle.name}`), 'utf8')).toBe(
        `${SECRET}-${id}`,
      );
    }
    expect(await readFile(join(state, 'secret-home-app-credential'), 'utf8')).toBe(`${SECRET}-${HOME}`);
    expect(first.output).not.toContain(SECRET);

    const settings = (await readFile(join(state, 'settings'), 'utf8')).trim().split('\n').sort();
    const cal = registered.get('consent-broker-abc123-calendar')!;
    const ewsId = registered.get('consent-broker-abc123-ews')!;
    expect(settings).toEqual(
      [
        `BUNDLE_CALENDAR_CLIENT_ID=${cal}`,
        'BUNDLE_CALENDAR_CREDENTIAL_NAME=home-app-credential-calendar',
        `BUNDLE_EWS_CLIENT_ID=${ewsId}`,
        'BUNDLE_EWS_CREDENTIAL_NAME=home-app-credential-ews',
      ].sort(),
    );
    expect((await readFile(join(state, 'azd'), 'utf8')).trim()).toBe(
      `env set BUNDLE_APP_IDS CALENDAR=${cal},EWS=${ewsId}`,
    );
    // No file the secrets passed through is left behind.
    expect((await readdir(state)).filter((f) => f.startsWith('tmp'))).toEqual([]);

    // Again: the same registrations, no new secret, no setting changed.
    await rm(join(state, 'calls'));
    const again = await runHook(state);
    expect(
      again.calls.filter((c) =>
        /^(ad app credential reset|keyvault secret set|functionapp config appsettings set)/.test(c),
      ),
    ).toEqual([]);
    expect(await ids(state)).toEqual(registered);
  });

  it('does nothing of the kind for a profiles file without bundles', async () => {
    const state = await mkdtemp(join(dir, 'state-'));
    await writeFile(
      join(tree, 'plain.profiles.json'),
      await readFile(join(repoRoot, 'src/profiles/default-profiles.json')),
    );
    const { stdout } = await run(join(tree, 'infra/scripts/postprovision.sh'), [], {
      cwd: tree,
      env: {
        PATH: `${dir}:${process.env.PATH ?? ''}`,
        HOME: dir,
        TMPDIR: state,
        FAKE_AZ: state,
        FAKE_SECRET: SECRET,
        BROKER_PROFILES_FILE: 'plain.profiles.json',
        HOME_APP_CLIENT_ID: HOME,
        KEY_VAULT_NAME: 'kv-broker-test',
        HOME_APP_CREDENTIAL_NAME: 'home-app-credential',
      },
    });
    const calls = (await readFile(join(state, 'calls'), 'utf8')).trim().split('\n');
    expect(calls.filter((c) => /^(rest|functionapp)/.test(c))).toEqual([]);
    expect(stdout).not.toContain('bundle app');
  });
});
