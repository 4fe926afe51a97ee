/**
 * The home app registration as code (infra/app/home-app.bicep) matches what the broker needs: every app role of
 * every default profile (and the broker's own) is requested from the right resource, redirect URIs are the two the
 * consent flow uses, and the support API's roles and the ID-token claims the broker checks are declared.
 * @module
 */
import { describe, expect, it } from 'vitest';
import { loadProfiles } from '../../src/profiles/profiles.js';
import { graphApplicationBody } from '../../src/profiles/registration.js';
import {
  block,
  propertyValue,
  propertyValues,
  readBicep,
  readRepoFile,
  resources,
  stringVars,
} from './bicep.js';

interface ProfilesFile {
  resources: Record<string, { appId: string }>;
  profiles: { name: string; resource: string; roles: { id: string; value: string }[] }[];
  brokerRoles: { resource: string; id: string; value: string }[];
}

const bicep = readBicep('infra/app/home-app.bicep');
const app = resources(bicep, 'Microsoft.Graph/applications').get('app')!;
const profiles = JSON.parse(readRepoFile('src/profiles/default-profiles.json')) as ProfilesFile;

/** `resourceAppId` → ids of `type: 'Role'` entries, from the requiredResourceAccess array. */
function requestedRoles(): Map<string, Set<string>> {
  const vars = stringVars(bicep);
  const section = block(app, 'requiredResourceAccess: [');
  const byResource = new Map<string, Set<string>>();
  for (const chunk of section.split(/resourceAppId:\s*/).slice(1)) {
    const ref = /^(\w+|'[^']+')/.exec(chunk)![1]!;
    const appId = ref.startsWith("'") ? ref.slice(1, -1) : vars.get(ref);
    if (!appId) throw new Error(`unknown resourceAppId ${ref}`);
    const ids = [...chunk.matchAll(/\{\s*id:\s*'([0-9a-f-]{36})',\s*type:\s*'Role'\s*\}/g)].map((m) => m[1]!);
    byResource.set(appId, new Set(ids));
  }
  return byResource;
}

describe('home app (infra/app/home-app.bicep)', () => {
  it('uses the Microsoft Graph Bicep extension (v1.0 types) for the application and its service principal', () => {
    expect(bicep).toMatch(/^extension microsoftGraphV1$/m);
    expect(readRepoFile('infra/bicepconfig.json')).toMatch(
      /"microsoftGraphV1": "br:mcr\.microsoft\.com\/bicep\/extensions\/microsoftgraph\/v1\.0:[0-9.]+"/,
    );
    expect(resources(bicep, 'Microsoft.Graph/servicePrincipals').get('servicePrincipal')).toContain(
      'appId: app.appId',
    );
  });

  it('is multitenant', () => {
    expect(propertyValue(app, 'signInAudience')).toBe("'AzureADMultipleOrgs'");
  });

  it('requests every app role of every default profile and of the broker itself, from its resource', () => {
    const expected = new Map<string, Set<string>>();
    const add = (resource: string, id: string) => {
      const appId = profiles.resources[resource]!.appId;
      expected.set(appId, (expected.get(appId) ?? new Set()).add(id));
    };
    for (const p of profiles.profiles) for (const r of p.roles ?? []) add(p.resource, r.id);
    for (const r of profiles.brokerRoles) add(r.resource, r.id);
    expect(expected.size).toBe(2);
    const actual = requestedRoles();
    expect(Object.fromEntries([...actual].map(([k, v]) => [k, [...v].sort()]))).toEqual(
      Object.fromEntries([...expected].map(([k, v]) => [k, [...v].sort()])),
    );
  });

  it('registers the consent callback and the sign-in redirect URIs on the web platform', () => {
    const web = block(app, 'web: {');
    expect(block(web, 'redirectUris: [').trim().split(/\s+/)).toEqual([
      "'${publicUrl}/consent/callback'",
      "'${publicUrl}/consent/signin'",
      "'${publicUrl}/mailbox-grants/callback'",
      "'${publicUrl}/console/callback'",
    ]);
  });

  it('declares the support API roles for users and applications', () => {
    const roles = block(app, 'appRoles: [');
    expect(propertyValues(roles, 'value')).toEqual(["'Broker.Read'", "'Broker.Admin'"]);
    expect(propertyValues(roles, 'allowedMemberTypes')).toEqual([
      "['User', 'Application']",
      "['User', 'Application']",
    ]);
  });

  it('puts directory roles (wids) and the acct claim into ID tokens', () => {
    expect(propertyValue(app, 'groupMembershipClaims')).toBe("'DirectoryRole'");
    expect(block(block(app, 'optionalClaims: {'), 'idToken: [')).toMatch(/name: 'acct'/);
  });

  it('leaves the identifier URI to the postprovision hook, which sets api://{appId}', () => {
    expect(app).not.toContain('identifierUris');
    expect(readRepoFile('infra/scripts/postprovision.sh')).toContain('uri="api://$app"');
    expect(readBicep('infra/app/function-app.bicep')).toContain(
      "{ name: 'SUPPORT_API_AUDIENCE', value: 'api://${homeAppClientId}' }",
    );
  });

  it('is the registration the postprovision hook upserts where Bicep cannot run (national clouds)', async () => {
    const body = graphApplicationBody(await loadProfiles(undefined), {
      uniqueName: 'consent-broker-x',
      displayName: 'Consent Broker',
      publicUrl: 'https://broker.example.com',
    }) as {
      signInAudience: string;
      web: { redirectUris: string[] };
      groupMembershipClaims: string;
      appRoles: { value: string; description: string; allowedMemberTypes: string[] }[];
      requiredResourceAccess: { resourceAppId: string; resourceAccess: { id: string; type: string }[] }[];
    };
    expect(`'${body.signInAudience}'`).toBe(propertyValue(app, 'signInAudience'));
    expect(body.web.redirectUris).toEqual([
      'https://broker.example.com/consent/callback',
      'https://broker.example.com/consent/signin',
      'https://broker.example.com/mailbox-grants/callback',
      'https://broker.example.com/console/callback',
    ]);
    expect(`'${body.groupMembershipClaims}'`).toBe(propertyValue(app, 'groupMembershipClaims'));
    const roles = block(app, 'appRoles: [');
    expect(body.appRoles.map((r) => `'${r.value}'`)).toEqual(propertyValues(roles, 'value'));
    expect(body.appRoles.map((r) => `'${r.description}'`)).toEqual(propertyValues(roles, 'description'));
    const requested = requestedRoles();
    expect(
      Object.fromEntries(
        body.requiredResourceAccess.map((r) => [
          r.resourceAppId,
          r.resourceAccess
            .filter((a) => a.type === 'Role')
            .map((a) => a.id)
            .sort(),
        ]),
      ),
    ).toEqual(Object.fromEntries([...requested].map(([k, v]) => [k, [...v].sort()])));
    const scopes = [
      ...block(app, 'requiredResourceAccess: [').matchAll(
        /\{\s*id:\s*'([0-9a-f-]{36})',\s*type:\s*'Scope'\s*\}/g,
      ),
    ].map((m) => m[1]);
    expect(
      body.requiredResourceAccess.flatMap((r) =>
        r.resourceAccess.filter((a) => a.type === 'Scope').map((a) => a.id),
      ),
    ).toEqual(scopes);
  });
});
