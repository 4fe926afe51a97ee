/**
 * infra/scripts/postprovision.sh in a national cloud, against a stand-in `az` that keeps the application objects it
 * is sent: the hook switches the Azure CLI to that cloud, upserts the home app by its unique name at that cloud's
 * Graph with the registration of infra/app/home-app.bicep, creates its service principal and sets the Functions
 * app's HOME_APP_CLIENT_ID, then carries on as in the public cloud; run again, it sends the same registration and
 * changes nothing else.
 * @module
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cloudNamed } from '../../src/cloud/clouds.js';
import { loadProfiles } from '../../src/profiles/profiles.js';
import { graphApplicationBody } from '../../src/profiles/registration.js';
import { hookTree } from './hook-tree.js';

const run = promisify(execFile);
const APP = '7d2c9e41-5b3a-4f6e-8c1d-2a9b0e4f6c73';
const SECRET = 'Qx8~fake-national-secret-value.0987654321';

/** Every call appended to $FAKE_AZ/calls; the application kept in $FAKE_AZ/app.json once upserted. */
const FAKE_AZ = `#!/usr/bin/env bash
state="$FAKE_AZ"
echo "$*" >>"$state/calls"
arg() { local want="$1"; shift; while [ $# -gt 0 ]; do [ "$1" = "$want" ] && { echo "$2"; return; }; shift; done; }
case "$1 $2" in
  "cloud show") cat "$state/cloud" ;;
  "cloud set") arg --name "$@" >"$state/cloud" ;;
  "rest --method")
    case "$3" in
      patch) body=$(arg --body "$@"); cp "\${body#@}" "$state/app.json" ;;
      get) [ -f "$state/app.json" ] && echo "$FAKE_APP_ID" || { echo "ERROR: Not Found" >&2; exit 3; } ;;
    esac ;;
  "ad sp")
    case "$3" in
      show) [ -f "$state/sp" ] || { echo "ERROR: not found" >&2; exit 3; } ; echo sp-object-id ;;
      create) touch "$state/sp" ;;
    esac ;;
  "functionapp config")
    case "$4" in
      list) cat "$state/setting" 2>/dev/null || echo "" ;;
      set) echo "$FAKE_APP_ID" >"$state/setting" ;;
    esac ;;
  "ad app")
    case "$3" in
      show) echo true ;;
      credential)
        case "$4" in
          reset) printf '%s\\n' "$FAKE_SECRET" ;;
          list) echo "2027-11-24T23:00:00+00:00" ;;
        esac ;;
    esac ;;
  "keyvault secret")
    case "$3" in
      show) if [ -f "$state/expires" ]; then printf 'null|%s\\n' "$(cat "$state/expires")"; else echo "ERROR: (SecretNotFound) was not found" >&2; exit 3; fi ;;
      set) arg --expires "$@" >"$state/expires" ;;
    esac ;;
  *) echo "unexpected az call: $*" >&2; exit 2 ;;
esac
`;

let dir: string;
let tree: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'broker-postprovision-national-'));
  await writeFile(join(dir, 'az'), FAKE_AZ);
  await chmod(join(dir, 'az'), 0o755);
  // The hook's own tree, with a build of its own (the same compiler and project as `npm run build`), so that the
  // test does not depend on, or race with, the repo's dist/.
  tree = join(dir, 'repo');
  await hookTree(tree);
}, 120_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const ENV = {
  BROKER_CLOUD: 'AzureUSGovernmentDoD',
  BROKER_PUBLIC_URL: 'https://broker.example.us',
  HOME_APP_CLIENT_ID: '',
  HOME_APP_UNIQUE_NAME: 'consent-broker-abc123',
  HOME_APP_DISPLAY_NAME: 'Consent Broker',
  AZURE_FUNCTION_APP_NAME: 'func-broker-abc123',
  AZURE_RESOURCE_GROUP: 'rg-broker',
  KEY_VAULT_NAME: 'kv-broker-test',
  HOME_APP_CREDENTIAL_NAME: 'home-app-credential',
};

async function runHook(state: string) {
  const { stdout, stderr } = await run(join(tree, 'infra/scripts/postprovision.sh'), [], {
    env: {
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      HOME: dir,
      TMPDIR: state,
      FAKE_AZ: state,
      FAKE_SECRET: SECRET,
      FAKE_APP_ID: APP,
      ...ENV,
    },
  });
  const calls = (await readFile(join(state, 'calls'), 'utf8')).trim().split('\n');
  return { output: stdout + stderr, calls };
}

describe('postprovision.sh with BROKER_CLOUD=AzureUSGovernmentDoD', () => {
  it('registers the home app at DoD Graph by its unique name, then its service principal and app setting, idempotently', async () => {
    const state = await mkdtemp(join(dir, 'state-'));
    await writeFile(join(state, 'cloud'), 'AzureCloud\n');

    const first = await runHook(state);
    const graph = 'https://dod-graph.microsoft.us';
    expect(first.calls[0]).toBe('cloud show --query name -o tsv');
    expect(first.calls).toContain('cloud set --name AzureUSGovernment');
    const upsert = first.calls.find((c) => c.startsWith('rest --method patch'));
    expect(upsert).toContain(
      `--resource ${graph} --url ${graph}/v1.0/applications(uniqueName='consent-broker-abc123')`,
    );
    expect(upsert).toContain('--headers Prefer=create-if-missing Content-Type=application/json');
    expect(first.calls).toContain(`ad sp create --id ${APP} --output none`);
    expect(
      first.calls.some((c) =>
        c.startsWith('functionapp config appsettings set -g rg-broker -n func-broker-abc123'),
      ),
    ).toBe(true);
    expect(first.calls.find((c) => c.startsWith('functionapp config appsettings set'))).toContain(
      `HOME_APP_CLIENT_ID=${APP} SUPPORT_API_AUDIENCE=api://${APP}`,
    );
    // Then as in the public cloud: the identifier URI check and a new secret in Key Vault, never printed.
    expect(first.calls.some((c) => c.startsWith(`ad app show --id ${APP}`))).toBe(true);
    expect(first.calls.some((c) => c.startsWith(`ad app credential reset --id ${APP}`))).toBe(true);
    expect(first.output).not.toContain(SECRET);

    // What was sent is the registration of infra/app/home-app.bicep, from the profiles, in this cloud.
    const sent = JSON.parse(await readFile(join(state, 'app.json'), 'utf8')) as Record<string, unknown>;
    const profiles = await loadProfiles(undefined, cloudNamed('AzureUSGovernmentDoD'));
    expect(sent).toEqual(
      graphApplicationBody(profiles, {
        uniqueName: 'consent-broker-abc123',
        displayName: 'Consent Broker',
        publicUrl: 'https://broker.example.us',
      }),
    );

    await rm(join(state, 'calls'));
    const again = await runHook(state);
    expect(again.calls).not.toContain('cloud set --name AzureUSGovernment');
    expect(
      again.calls.filter(
        (c) => c.startsWith('ad sp create') || c.startsWith('functionapp config appsettings set'),
      ),
    ).toEqual([]);
    expect(JSON.parse(await readFile(join(state, 'app.json'), 'utf8'))).toEqual(sent);
  });
});
