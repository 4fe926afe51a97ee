/**
 * The consent pages say what is really granted. The admin-consent request names a `/.default`
 * scope, which grants every permission of the home app registration, not only the onboarding's profiles
 * (FACTS.md §1.1). So for an onboarding with one profile, the landing page and the result page served by the
 * broker must list every permission of the registration, as the sandbox seeds it (simulators/sandbox.ts, which
 * the Entra simulator grants on consent) and as infra/app/home-app.bicep deploys it, with the onboarding's own
 * marked "Used by your equipment". The pages are read over real sockets from the broker, after a real consent
 * in the Entra simulator.
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadProfiles } from '../../src/profiles/profiles.js';
import { World } from '../../simulators/common/world.js';
import { FIRST_PARTY_RESOURCES, GRAPH_APP_ID } from '../../simulators/common/well-known.js';
import { SANDBOX_IDS, seedSandbox } from '../../simulators/sandbox.js';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { block, readBicep, resources, stringVars } from '../infra/bicep.js';
import { startTestBroker, type TestBroker } from '../integration/broker-host.js';
import { GRAPH_DELEGATED } from '../helpers/graph-permissions.js';

const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';
const PROFILE = 'exchange-imap';
const EQUIPMENT = 'Used by your equipment';
const SERVICE = 'Used by this service';
const UNUSED = 'Not used by your equipment';
/** The heading of the sign-in (delegated) permissions on both pages. */
const SIGN_IN = 'Your sign-in';

/** The admin's own sign-in scopes; every other delegated scope is a delegated profile's (for users who sign in). */
const SIGN_IN_VALUES = new Set(['openid', 'profile', 'offline_access']);

/** What a page lists: heading → permission value → its mark ('' for the sign-in scopes, which carry none). */
type Listed = Record<string, Record<string, string>>;

const unescape = (text: string) =>
  text
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&#96;/g, '`')
    .replace(/&amp;/g, '&');

/** Each `<h3>` followed by a list, and each item's `<code>` and mark. */
function listedOn(body: string): Listed {
  const listed: Listed = {};
  const sections = /<h3>([^<]*)<\/h3>((?:(?!<h[23]>)[\s\S])*?)<ul[^>]*>([\s\S]*?)<\/ul>/g;
  for (const [, heading, , list] of body.matchAll(sections)) {
    const items: Record<string, string> = {};
    for (const [, item] of list!.matchAll(/<li>([\s\S]*?)<\/li>/g)) {
      const value = /<code>([^<]*)<\/code>/.exec(item!)?.[1];
      if (value === undefined) throw new Error(`a permission without its name: ${item}`);
      items[unescape(value)] = unescape(/class="use-[a-z]+">([^<]*)</.exec(item!)?.[1] ?? '');
    }
    listed[unescape(heading!)] = items;
  }
  return listed;
}

const resourceName = (appId: string) => {
  const resource = FIRST_PARTY_RESOURCES.find((r) => r.appId === appId);
  if (!resource) throw new Error(`the registration names a resource the simulators do not know: ${appId}`);
  return resource.displayName;
};

/** The page a registration should give for an onboarding with the one profile `PROFILE`. */
async function expectedFor(
  roles: Record<string, readonly string[]>,
  scopes: readonly string[],
): Promise<Listed> {
  const catalogue = await loadProfiles(undefined);
  const own = new Set(catalogue.get(PROFILE)!.roles.map((r) => r.value));
  const broker = new Set(catalogue.brokerRoles.map((r) => r.value));
  const expected: Listed = {};
  for (const [appId, values] of Object.entries(roles))
    expected[resourceName(appId)] = Object.fromEntries(
      values.map((v) => [v, own.has(v) ? EQUIPMENT : broker.has(v) ? SERVICE : UNUSED]),
    );
  const ownScopes = new Set(catalogue.get(PROFILE)!.scopes.map((s) => s.value));
  const delegated = scopes.filter((s) => !SIGN_IN_VALUES.has(s));
  if (delegated.length)
    expected[`${resourceName(GRAPH_APP_ID)}, as a user who signs in`] = Object.fromEntries(
      delegated.map((s) => [s, ownScopes.has(s) ? EQUIPMENT : UNUSED]),
    );
  expected[SIGN_IN] = Object.fromEntries(scopes.filter((s) => SIGN_IN_VALUES.has(s)).map((s) => [s, '']));
  return expected;
}

/** The sandbox's home app registration, as the Entra simulator holds it and grants it on consent. */
function sandboxRegistration(): Promise<Listed> {
  const world = new World();
  seedSandbox(world, { publicUrl: 'http://localhost:7071' });
  const home = world.apps.get(SANDBOX_IDS.homeAppId)!;
  return expectedFor(home.requiredRoles, home.requiredScopes?.[GRAPH_APP_ID] ?? []);
}

/** The registration as deployed: requiredResourceAccess of infra/app/home-app.bicep, role ids named by their resource. */
function bicepRegistration(): Promise<Listed> {
  const bicep = readBicep('infra/app/home-app.bicep');
  const app = resources(bicep, 'Microsoft.Graph/applications').get('app')!;
  const vars = stringVars(bicep);
  const roles: Record<string, string[]> = {};
  const scopes: string[] = [];
  for (const chunk of block(app, 'requiredResourceAccess: [')
    .split(/resourceAppId:\s*/)
    .slice(1)) {
    const ref = /^(\w+|'[^']+')/.exec(chunk)![1]!;
    const appId = ref.startsWith("'") ? ref.slice(1, -1) : vars.get(ref)!;
    const published = FIRST_PARTY_RESOURCES.find((r) => r.appId === appId)?.appRoles ?? [];
    for (const [, id, type] of chunk.matchAll(
      /\{\s*id:\s*'([0-9a-f-]{36})',\s*type:\s*'(Role|Scope)'\s*\}/g,
    )) {
      if (type === 'Scope') scopes.push(GRAPH_DELEGATED[id!] ?? `unknown scope ${id}`);
      else (roles[appId] ??= []).push(published.find((r) => r.id === id)?.value ?? `unknown role ${id}`);
    }
  }
  return expectedFor(roles, scopes);
}

let broker: TestBroker;
let landing: string;
let result: string;

beforeAll(async () => {
  broker = await startTestBroker();
  const staff = await broker.staffToken();
  const created = await fetch(`${broker.url}/api/onboardings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customerRef: 'REGISTRATION-1', profiles: [PROFILE] }),
  });
  expect(created.status).toBe(201);
  const { consentUrl } = (await created.json()) as { consentUrl: string };

  const tenant = await newTenant('Registration Pages Ltd', ['registrationpages.example']);
  await control('POST', `/_sim/tenants/${tenant}/users`, {
    userPrincipalName: 'admin@registrationpages.example',
    directoryRoles: [GLOBAL_ADMIN],
  });
  const browser = new ConsentBrowser(broker.url);
  const landingPage = await browser.open(consentUrl);
  expect(landingPage.status).toBe(200);
  landing = landingPage.body;
  const microsoft = await browser.open(`${consentUrl}/go`);
  expect(microsoft.status).toBe(200);
  const resultPage = await browser.submit(microsoft, {
    user: 'admin@registrationpages.example',
    decision: 'approve',
  });
  expect(resultPage.status, resultPage.body.slice(0, 300)).toBe(200);
  expect(resultPage.url).toMatch(/\/consent\/signin\?/);
  result = resultPage.body;
});

afterAll(async () => {
  await broker?.close();
});

describe('consent pages against the home app registration, for an onboarding with one profile', () => {
  it("the landing page lists every permission of the sandbox registration, the onboarding's own marked", async () => {
    expect(listedOn(landing)).toEqual(await sandboxRegistration());
  });

  it('the landing page lists every permission home-app.bicep deploys', async () => {
    expect(listedOn(landing)).toEqual(await bicepRegistration());
  });

  it('the landing page says that Microsoft grants all of them at once, and what the sign-in permissions are for', () => {
    const text = landing.replace(/\s+/g, ' ');
    expect(text).toContain('Microsoft grants every permission of the app at once');
    expect(text).toContain('sign you in and read your basic profile, once, to confirm who consented');
  });

  it('the result page after the consent lists what was granted: the whole registration, marked alike', async () => {
    expect(result).toContain('Your organization is connected');
    expect(listedOn(result)).toEqual(await sandboxRegistration());
  });
});
