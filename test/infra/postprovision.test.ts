/**
 * infra/scripts/postprovision.sh against a stand-in `az` (a shell script on PATH that answers like the Azure CLI
 * and records its calls): it sets the identifier URI and stores a new client secret only when needed, never
 * prints the secret, stores exactly the secret text, and leaves no secret file behind.
 * @module
 */
import { execFile } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './bicep.js';

const run = promisify(execFile);
const APP = '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250';
const SECRET = 'Qx8~fake-client-secret-value.1234567890';

/** Answers the calls postprovision.sh makes; state in $FAKE_AZ (files), every call appended to $FAKE_AZ/calls. */
const FAKE_AZ = `#!/usr/bin/env bash
state="$FAKE_AZ"
echo "$*" >>"$state/calls"
case "$1 $2 $3" in
  "ad app show") cat "$state/has-uri" ;;
  "ad app update") echo true >"$state/has-uri" ;;
  "keyvault secret show")
    if [ -f "$state/expires" ]; then printf '%s|%s\\n' "$(cat "$state/managed" 2>/dev/null || echo null)" "$(cat "$state/expires")"; else echo "ERROR: (SecretNotFound) A secret with (name/id) x was not found in this key vault." >&2; exit 3; fi ;;
  "ad app credential")
    case "$4" in
      reset) echo "WARNING: The output includes credentials that you must protect." >&2; printf '%s\\n' "$FAKE_SECRET" ;;
      list) echo "2027-11-24T23:00:00+00:00" ;;
    esac ;;
  "keyvault secret set")
    while [ $# -gt 0 ]; do
      case "$1" in
        --file) cp "$2" "$state/stored"; echo "$2" >"$state/secret-file"; shift ;;
        --expires) echo "$2" >"$state/expires"; shift ;;
      esac
      shift
    done ;;
  *) echo "unexpected az call: $*" >&2; exit 2 ;;
esac
`;

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'broker-postprovision-'));
  await writeFile(join(dir, 'az'), FAKE_AZ);
  await chmod(join(dir, 'az'), 0o755);
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function runHook(state: string, extraEnv: Record<string, string> = {}) {
  const { stdout, stderr } = await run(join(repoRoot, 'infra/scripts/postprovision.sh'), [], {
    env: {
      PATH: `${dir}:${process.env.PATH ?? ''}`,
      HOME: dir,
      TMPDIR: state,
      FAKE_AZ: state,
      FAKE_SECRET: SECRET,
      HOME_APP_CLIENT_ID: APP,
      KEY_VAULT_NAME: 'kv-broker-test',
      HOME_APP_CREDENTIAL_NAME: 'home-app-credential',
      ...extraEnv,
    },
  });
  const calls = (await readFile(join(state, 'calls'), 'utf8')).trim().split('\n');
  return { output: stdout + stderr, calls };
}

async function freshState(hasUri: boolean, expires?: string): Promise<string> {
  const state = await mkdtemp(join(dir, 'state-'));
  await writeFile(join(state, 'has-uri'), `${hasUri}\n`);
  if (expires) await writeFile(join(state, 'expires'), `${expires}\n`);
  return state;
}

describe('postprovision.sh', () => {
  it('on a new deployment: sets api://{appId} and stores a new client secret in Key Vault, never printing it', async () => {
    const state = await freshState(false);
    const { output, calls } = await runHook(state);
    expect(calls).toContain(`ad app update --id ${APP} --identifier-uris api://${APP} --only-show-errors`);
    expect(calls.some((c) => c.startsWith(`ad app credential reset --id ${APP} --append`))).toBe(true);
    expect(
      calls.some((c) =>
        c.startsWith('keyvault secret set --vault-name kv-broker-test --name home-app-credential'),
      ),
    ).toBe(true);
    // The plain secret text, no newline: what src/credentials/home-app.ts uses as the client secret.
    expect(await readFile(join(state, 'stored'), 'utf8')).toBe(SECRET);
    expect((await readFile(join(state, 'expires'), 'utf8')).trim()).toBe('2027-11-24T23:00:00+00:00');
    expect(output).not.toContain(SECRET);
    // The file the secret passed through is gone.
    const secretFile = (await readFile(join(state, 'secret-file'), 'utf8')).trim();
    expect((await readdir(state)).map((f) => join(state, f))).not.toContain(secretFile);
  });

  it('on a redeployment with a valid secret: changes nothing', async () => {
    const state = await freshState(true, '2099-01-01T00:00:00+00:00');
    const { calls } = await runHook(state);
    expect(
      calls.filter((c) => /^(ad app update|ad app credential reset|keyvault secret set)/.test(c)),
    ).toEqual([]);
  });

  it('adds a new secret when the stored one ends within 30 days, or when asked to rotate', async () => {
    const soon = new Date(Date.now() + 10 * 86_400_000).toISOString();
    const expiring = await runHook(await freshState(true, soon));
    expect(expiring.calls.some((c) => c.startsWith('ad app credential reset'))).toBe(true);

    const rotate = await runHook(await freshState(true, '2099-01-01T00:00:00+00:00'), {
      BROKER_ROTATE_HOME_APP_CREDENTIAL: 'true',
    });
    expect(rotate.calls.some((c) => c.startsWith('ad app credential reset'))).toBe(true);
  });

  it('leaves a credential that is a Key Vault certificate alone, even near its end or when asked to rotate', async () => {
    const soon = new Date(Date.now() + 10 * 86_400_000).toISOString();
    const runs: Record<string, string>[] = [{}, { BROKER_ROTATE_HOME_APP_CREDENTIAL: 'true' }];
    for (const extra of runs) {
      const state = await freshState(true, soon);
      await writeFile(join(state, 'managed'), 'true\n');
      const { output, calls } = await runHook(state, extra);
      expect(calls.filter((c) => /^(ad app credential reset|keyvault secret set)/.test(c))).toEqual([]);
      expect(output).toContain('is a Key Vault certificate');
    }
  });

  it('treats a secret without an expiry as valid', async () => {
    const state = await freshState(true, 'null');
    const { output, calls } = await runHook(state);
    expect(calls.filter((c) => /^(ad app credential reset|keyvault secret set)/.test(c))).toEqual([]);
    expect(output).toContain('expires: never');
  });
});
