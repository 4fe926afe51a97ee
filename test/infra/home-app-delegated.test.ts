/**
 * The home app's delegated permissions: @azure/msal-node always asks for `openid profile
 * offline_access` in the admin's sign-in, so the registration must list all three Microsoft Graph delegated
 * scopes, or real Entra answers the silent sign-in after the admin's consent with consent_required
 * (AADSTS65001); and every scope of every delegated profile, so that the tenant admin's consent covers the
 * users' sign-ins of mailbox grants. The sandbox's simulated home app lists the same ones, so the simulator
 * behaves as the deployment.
 * @module
 */
import { describe, expect, it } from 'vitest';
import defaultProfiles from '../../src/profiles/default-profiles.json' with { type: 'json' };
import { block, readBicep, resources, stringVars } from './bicep.js';
import { World } from '../../simulators/common/world.js';
import { GRAPH_APP_ID } from '../../simulators/common/well-known.js';
import { SANDBOX_IDS, sandboxIdentities, seedSandbox } from '../../simulators/sandbox.js';
import { GRAPH_DELEGATED } from '../helpers/graph-permissions.js';

/** The delegated scopes of the default profiles file (src/profiles/default-profiles.json `profiles[].scopes[]`). */
const PROFILE_SCOPES = (
  defaultProfiles.profiles as { scopes?: { value: string; id: string; registeredOn: string }[] }[]
).flatMap((p) => p.scopes ?? []);

const bicep = readBicep('infra/app/home-app.bicep');
const app = resources(bicep, 'Microsoft.Graph/applications').get('app')!;

/** Names of the `type: 'Scope'` entries requested from Microsoft Graph. */
function delegatedGraphScopes(): string[] {
  const vars = stringVars(bicep);
  const section = block(app, 'requiredResourceAccess: [');
  const graph = section
    .split(/resourceAppId:\s*/)
    .slice(1)
    .find((chunk) => {
      const ref = /^(\w+|'[^']+')/.exec(chunk)![1]!;
      return (ref.startsWith("'") ? ref.slice(1, -1) : vars.get(ref)) === GRAPH_APP_ID;
    });
  if (!graph) throw new Error('no Microsoft Graph entry in requiredResourceAccess');
  return [...graph.matchAll(/\{\s*id:\s*'([0-9a-f-]{36})',\s*type:\s*'Scope'\s*\}/g)].map(
    (m) => GRAPH_DELEGATED[m[1]!] ?? `unknown ${m[1]}`,
  );
}

describe('home app delegated permissions', () => {
  it("declares the sign-in's openid, profile and offline_access and every delegated profile's scopes", () => {
    expect(PROFILE_SCOPES.length).toBeGreaterThan(0);
    expect(PROFILE_SCOPES.every((s) => s.registeredOn === 'graph' && GRAPH_DELEGATED[s.id] === s.value)).toBe(
      true,
    );
    expect(delegatedGraphScopes().sort()).toEqual(
      [...new Set(['offline_access', 'openid', 'profile', ...PROFILE_SCOPES.map((s) => s.value)])].sort(),
    );
  });

  it('gives the sandbox home app the same delegated scopes as home-app.bicep', () => {
    const world = new World();
    seedSandbox(world, { publicUrl: 'http://localhost:7071' });
    const home = world.apps.get(SANDBOX_IDS.homeAppId)!;
    expect(Object.keys(home.requiredScopes ?? {})).toEqual([GRAPH_APP_ID]);
    expect([...(home.requiredScopes?.[GRAPH_APP_ID] ?? [])].sort()).toEqual(delegatedGraphScopes().sort());
  });

  it('gives them to the home app of a sandbox world saved before delegated permissions were modelled', () => {
    const saved = new World();
    seedSandbox(saved, { publicUrl: 'http://localhost:7071' });
    const snapshot = JSON.parse(JSON.stringify(saved.snapshot())) as ReturnType<World['snapshot']>;
    for (const a of snapshot.apps) delete (a as { requiredScopes?: unknown }).requiredScopes;
    const world = new World();
    world.restore(snapshot);
    sandboxIdentities(world, { publicUrl: 'http://localhost:7071' });
    const home = world.apps.get(SANDBOX_IDS.homeAppId)!;
    expect([...(home.requiredScopes?.[GRAPH_APP_ID] ?? [])].sort()).toEqual(delegatedGraphScopes().sort());
  });
});
