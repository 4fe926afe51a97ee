/**
 * The vendor's profiles (SPEC.md "profile"): named bundles of a resource and what the appliance may do there.
 * An `application` profile (the default kind) names the app roles its app-only tokens need (`{resource}/.default`,
 * client credentials); a `delegated` profile names the delegated scopes a user's sign-in grants, for tokens the
 * broker obtains on that user's behalf (a mailbox grant): never vended by client credentials. Loaded and
 * validated once at start; a broken file stops the broker with a message naming the entry. Role ids and
 * sources: FACTS.md §5; delegated scope ids: the comment above each in default-profiles.json's docs
 * (docs/delegated-custody.md "Scopes").
 * @module
 */
import { readFile } from 'node:fs/promises';
import defaultProfiles from './default-profiles.json' with { type: 'json' };
import {
  CLOUD_RESOURCES,
  cloudsOfEndpoint,
  PUBLIC_CLOUD,
  type Cloud,
  type CloudResource,
} from '../cloud/clouds.js';
import { GUID, PROFILE_NAME } from '../ids.js';
import { type Bundle, bundlesOf } from './bundles.js';

export { type Bundle, HOME_BUNDLE, profilesSplitAcrossBundles } from './bundles.js';

export interface Resource {
  /** The key the profiles file uses for it, e.g. `exchange`. */
  readonly key: string;
  /** `{resource}/.default`, the only scope form the client-credentials grant accepts (FACTS.md §2). */
  readonly scope: string;
  readonly appId: string;
  readonly displayName: string;
  /**
   * Every `.default` spelling of this resource an appliance may ask for, `scope` first: the profiles file's
   * `aliases` (other App ID URIs Entra accepts for it) and `{appId}/.default`. Each is passed on to Entra as
   * written here, since a v1 token's `aud` is the identifier it was asked for
   * (https://learn.microsoft.com/en-us/entra/identity-platform/access-token-claims-reference, `aud`).
   */
  readonly spellings: readonly string[];
}

export interface AppRole {
  readonly value: string;
  readonly id: string;
  /** What it allows, in plain words for the consent page. */
  readonly description: string;
}

/**
 * A delegated permission a profile needs. It is registered on `registeredOn` (e.g. IMAP.AccessAsUser.All is a
 * Microsoft Graph permission: "select Microsoft Graph … Delegated permissions … IMAP.AccessAsUser.All",
 * https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth)
 * and asked for as `tokenScope` on the profile's resource (`https://outlook.office365.com/IMAP.AccessAsUser.All`).
 */
export interface DelegatedPermission {
  readonly value: string;
  /** The permission's id on `registeredOn` (the registration's `requiredResourceAccess`, `type: 'Scope'`). */
  readonly id: string;
  /** What it allows, in plain words for the consent pages. */
  readonly description: string;
  readonly registeredOn: Resource;
  /** The scope asked for in the token request: the profile resource's URI and the permission's value. */
  readonly tokenScope: string;
}

export type ProfileKind = 'application' | 'delegated';

export interface Profile {
  readonly name: string;
  readonly title: string;
  /** `application`: app-only tokens with `roles`; `delegated`: a user's tokens with `scopes`. */
  readonly kind: ProfileKind;
  readonly resource: Resource;
  /** The app roles of an application profile; empty for a delegated one. */
  readonly roles: readonly AppRole[];
  /** The delegated permissions of a delegated profile; empty for an application one. */
  readonly scopes: readonly DelegatedPermission[];
  /** The profile is ending (e.g. EWS in Exchange Online): said on the pages, refused for new uses after `endsOn`. */
  readonly deprecated?: Deprecation;
}

export interface Deprecation {
  /** The first day it no longer works (UTC), `YYYY-MM-DD` in the profiles file. */
  readonly endsOn: string;
  /** Profiles that do the same job. */
  readonly replacedBy: readonly string[];
  /** Why, in plain words for an admin. */
  readonly reason: string;
}

/**
 * What refuses a new appliance or onboarding asking for `names` at `now`: each deprecated profile whose end
 * date has come, in words that name the date and the replacements; empty when none has.
 */
export function endedProfiles(profiles: Profiles, names: readonly string[], now: Date): string[] {
  const today = now.toISOString().slice(0, 10);
  return names.flatMap((name) => {
    const d = profiles.get(name)?.deprecated;
    if (!d || today < d.endsOn) return [];
    const instead = d.replacedBy.length ? ` Use ${d.replacedBy.join(' or ')} instead.` : '';
    return [`Profile ${name} ended on ${d.endsOn}: ${d.reason}${instead}`];
  });
}

export interface BrokerRole extends AppRole {
  readonly resource: Resource;
}

export interface Profiles {
  readonly resources: ReadonlyMap<string, Resource>;
  readonly profiles: ReadonlyMap<string, Profile>;
  /** Roles the broker itself needs in every tenant (e.g. Organization.Read.All); every bundle's app lists them. */
  readonly brokerRoles: readonly BrokerRole[];
  /** The bundles in file order, the home app's first; never empty. */
  readonly bundles: readonly Bundle[];
  /** The profile, or undefined. */
  get(name: string): Profile | undefined;
  /** The bundle that holds the profile (the home bundle for a name the file does not define). */
  bundleOf(profileName: string): Bundle;
  /** The bundles `profileNames` need, in bundle order, each once; unknown names count for nothing. */
  bundlesFor(profileNames: readonly string[]): Bundle[];
  /** The resource one of whose `spellings` is `scope` (compared case-insensitively), or undefined. */
  resourceForScope(scope: string): Resource | undefined;
  /** That resource and the spelling of it `scope` names, as declared; undefined when none does. */
  spellingOf(scope: string): { resource: Resource; spelling: string } | undefined;
}

export class ProfilesError extends Error {
  constructor(
    source: string,
    readonly problems: readonly string[],
  ) {
    super(`Invalid profiles file ${source}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ProfilesError';
  }
}

/**
 * Loads the file at `path`, or the profiles that ship with the broker when `path` is undefined; a resource
 * without a `scope` gets its scope from `cloud` (BROKER_CLOUD).
 */
export async function loadProfiles(path: string | undefined, cloud: Cloud = PUBLIC_CLOUD): Promise<Profiles> {
  if (path === undefined) return parseProfiles(defaultProfiles, 'default-profiles.json (built in)', cloud);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ProfilesError(path, [
      `cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    ]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ProfilesError(path, [`is not valid JSON: ${(err as Error).message}`]);
  }
  return parseProfiles(json, path, cloud);
}

/** Validates a parsed profiles document; every problem is reported with the path of its entry. */
export function parseProfiles(doc: unknown, source: string, cloud: Cloud = PUBLIC_CLOUD): Profiles {
  const problems: string[] = [];
  const resources = new Map<string, Resource>();
  const profiles = new Map<string, Profile>();
  const brokerRoles: BrokerRole[] = [];
  if (!isObject(doc))
    throw new ProfilesError(source, ['the document must be a JSON object with "resources" and "profiles"']);

  if (!isObject(doc.resources)) problems.push('"resources" must be an object of resource entries');
  else {
    for (const [key, r] of Object.entries(doc.resources)) {
      const at = `resources.${key}`;
      if (!PROFILE_NAME.test(key))
        problems.push(`${at}: the key must be lower-case letters, digits and dashes`);
      if (!isObject(r)) {
        problems.push(`${at}: must be an object with appId, displayName and (optionally) scope`);
        continue;
      }
      let scope = str(r.scope);
      let cloudAliases: readonly string[] = [];
      if (r.scope === undefined) {
        // The file names the resource; the cloud gives its scope (src/cloud/clouds.ts).
        if ((CLOUD_RESOURCES as readonly string[]).includes(key))
          ({ scope, aliases: cloudAliases } = cloud.resourceScopes(key as CloudResource));
        else
          problems.push(
            `${at}.scope: is required: "${key}" is not a resource whose scope the cloud gives (${CLOUD_RESOURCES.join(', ')})`,
          );
      } else if (!scope || !/^https:\/\/[^\s/]+(\/[^\s]*)?\/\.default$/.test(scope)) {
        problems.push(
          `${at}.scope: must be an https resource URI ending in "/.default" (FACTS.md §2), got ${JSON.stringify(r.scope)}`,
        );
      } else {
        // A Microsoft resource of another cloud can never be granted here (tokens do not cross clouds).
        const clouds = cloudsOfEndpoint('graph', scope) ?? cloudsOfEndpoint('exchange', scope);
        if (clouds && !clouds.includes(cloud.name))
          problems.push(
            `${at}.scope: ${scope} is a resource of ${clouds.join(' or ')}, but BROKER_CLOUD is ${cloud.name}; leave "scope" out to get ${cloud.name}'s`,
          );
      }
      if (!GUID.test(str(r.appId)))
        problems.push(
          `${at}.appId: must be the resource's application id (a GUID), got ${JSON.stringify(r.appId)}`,
        );
      if (!str(r.displayName)) problems.push(`${at}.displayName: must be a non-empty string`);
      const aliases = r.aliases === undefined ? [] : Array.isArray(r.aliases) ? r.aliases.map(str) : [''];
      for (const alias of aliases)
        if (!/^https:\/\/[^\s/]+(\/[^\s]*)?\/\.default$/.test(alias))
          problems.push(`${at}.aliases: each must be an https resource URI ending in "/.default"`);
      const appId = str(r.appId).toLowerCase();
      resources.set(key, {
        key,
        scope,
        appId,
        displayName: str(r.displayName),
        spellings: [...new Set([scope, ...aliases, ...cloudAliases, `${appId}/.default`])],
      });
    }
  }

  const roleOf = (r: unknown, at: string): AppRole | undefined => {
    if (!isObject(r)) {
      problems.push(`${at}: must be an object with value, id and description`);
      return undefined;
    }
    if (!/^[A-Za-z0-9._-]{1,120}$/.test(str(r.value)))
      problems.push(
        `${at}.value: must be an app role value such as "IMAP.AccessAsApp", got ${JSON.stringify(r.value)}`,
      );
    if (!GUID.test(str(r.id)))
      problems.push(`${at}.id: must be the app role's id (a GUID), got ${JSON.stringify(r.id)}`);
    if (!str(r.description)) problems.push(`${at}.description: must say in plain words what the role allows`);
    return { value: str(r.value), id: str(r.id).toLowerCase(), description: str(r.description) };
  };
  const delegatedOf = (d: unknown, resource: Resource, at: string): DelegatedPermission | undefined => {
    if (!isObject(d)) {
      problems.push(`${at}: must be an object with value, id, registeredOn and description`);
      return undefined;
    }
    const value = str(d.value);
    // A delegated scope value: IMAP.AccessAsUser.All, SMTP.Send, Calendars.ReadWrite (not a URI: the profile's
    // resource gives that).
    if (!/^[A-Za-z][A-Za-z0-9._-]{0,119}$/.test(value))
      problems.push(
        `${at}.value: must be a delegated permission such as "IMAP.AccessAsUser.All", got ${JSON.stringify(d.value)}`,
      );
    if (!GUID.test(str(d.id)))
      problems.push(`${at}.id: must be the permission's id (a GUID), got ${JSON.stringify(d.id)}`);
    if (!str(d.description)) problems.push(`${at}.description: must say in plain words what it allows`);
    const registeredOn = resourceOf(d.registeredOn ?? resource.key, `${at}.registeredOn`);
    if (!registeredOn) return undefined;
    return {
      value,
      id: str(d.id).toLowerCase(),
      description: str(d.description),
      registeredOn,
      tokenScope: `${resource.scope.replace(/\/\.default$/, '')}/${value}`,
    };
  };
  const deprecationOf = (d: unknown, at: string): Deprecation | undefined => {
    if (!isObject(d)) {
      problems.push(`${at}: must be an object with endsOn, replacedBy and reason`);
      return undefined;
    }
    const endsOn = str(d.endsOn);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(endsOn) || Number.isNaN(Date.parse(endsOn)))
      problems.push(`${at}.endsOn: must be a date, YYYY-MM-DD, got ${JSON.stringify(d.endsOn)}`);
    const replacedBy = Array.isArray(d.replacedBy) ? d.replacedBy.map(str) : undefined;
    if (!replacedBy) problems.push(`${at}.replacedBy: must be an array of profile names`);
    if (!str(d.reason)) problems.push(`${at}.reason: must say in plain words why it ends`);
    return { endsOn, replacedBy: replacedBy ?? [], reason: str(d.reason) };
  };
  const resourceOf = (key: unknown, at: string): Resource | undefined => {
    const resource = resources.get(str(key));
    if (!resource)
      problems.push(`${at}: names resource ${JSON.stringify(key)}, which "resources" does not define`);
    return resource;
  };

  if (!Array.isArray(doc.profiles) || doc.profiles.length === 0)
    problems.push('"profiles" must be a non-empty array');
  else {
    doc.profiles.forEach((p: unknown, i: number) => {
      const label = isObject(p) && typeof p.name === 'string' ? ` ("${p.name}")` : '';
      const at = `profiles[${i}]${label}`;
      if (!isObject(p)) return problems.push(`${at}: must be an object`);
      const name = str(p.name);
      if (!PROFILE_NAME.test(name))
        problems.push(`${at}.name: must be lower-case letters, digits and dashes`);
      else if (profiles.has(name)) problems.push(`${at}.name: "${name}" is defined twice`);
      if (!str(p.title)) problems.push(`${at}.title: must be a non-empty string`);
      const resource = resourceOf(p.resource, `${at}.resource`);
      const kind = p.kind === undefined ? 'application' : p.kind;
      if (kind !== 'application' && kind !== 'delegated')
        problems.push(`${at}.kind: must be "application" or "delegated", got ${JSON.stringify(p.kind)}`);
      const [listed, other] = kind === 'delegated' ? ['scopes', 'roles'] : ['roles', 'scopes'];
      const entries = p[listed];
      if (!Array.isArray(entries) || entries.length === 0)
        problems.push(`${at}.${listed}: must be a non-empty array for ${article(kind)} profile`);
      if (p[other] !== undefined)
        problems.push(
          `${at}.${other}: ${article(kind)} profile has ${listed}, not ${other}${kind === 'application' ? ' (set "kind": "delegated" for a user\'s sign-in)' : ''}`,
        );
      const list = Array.isArray(entries) ? entries : [];
      const roles =
        kind === 'delegated' ? [] : list.map((r: unknown, j: number) => roleOf(r, `${at}.roles[${j}]`));
      const scopes =
        kind === 'delegated' && resource
          ? list.map((d: unknown, j: number) => delegatedOf(d, resource, `${at}.scopes[${j}]`))
          : [];
      const deprecated =
        p.deprecated === undefined ? undefined : deprecationOf(p.deprecated, `${at}.deprecated`);
      if (
        resource &&
        (kind === 'application' || kind === 'delegated') &&
        roles.every((r): r is AppRole => r !== undefined) &&
        scopes.every((d): d is DelegatedPermission => d !== undefined)
      ) {
        profiles.set(name, {
          name,
          title: str(p.title),
          kind,
          resource,
          roles,
          scopes,
          ...(deprecated ? { deprecated } : {}),
        });
      }
      return undefined;
    });
    for (const [name, profile] of profiles)
      for (const other of profile.deprecated?.replacedBy ?? [])
        if (!profiles.has(other))
          problems.push(
            `profiles ("${name}").deprecated.replacedBy: names ${JSON.stringify(other)}, not a profile`,
          );
  }

  if (doc.brokerRoles !== undefined) {
    if (!Array.isArray(doc.brokerRoles)) problems.push('"brokerRoles" must be an array');
    else
      doc.brokerRoles.forEach((r: unknown, i: number) => {
        const at = `brokerRoles[${i}]`;
        const role = roleOf(r, at);
        const resource = isObject(r) ? resourceOf(r.resource, `${at}.resource`) : undefined;
        if (role && resource) brokerRoles.push({ ...role, resource });
      });
  }

  const bundles = bundlesOf(doc.bundles, profiles, problems);
  if (problems.length > 0) throw new ProfilesError(source, problems);
  const bundleByProfile = new Map<string, Bundle>();
  for (const b of bundles) for (const p of b.profiles) bundleByProfile.set(p.name, b);
  const home = bundles[0]!;
  return {
    resources,
    profiles,
    brokerRoles,
    bundles,
    get: (name) => profiles.get(name),
    bundleOf: (name) => bundleByProfile.get(name) ?? home,
    bundlesFor: (names) => {
      const wanted = new Set(names.map((n) => bundleByProfile.get(n)).filter((b) => b !== undefined));
      return bundles.filter((b) => wanted.has(b));
    },
    resourceForScope: (scope) => spellingOf(scope)?.resource,
    spellingOf,
  };

  function spellingOf(scope: string): { resource: Resource; spelling: string } | undefined {
    const asked = scope.toLowerCase();
    for (const resource of resources.values()) {
      const spelling = resource.spellings.find((s) => s.toLowerCase() === asked);
      if (spelling !== undefined) return { resource, spelling };
    }
    return undefined;
  }
}

const article = (kind: unknown) => (kind === 'application' ? 'an application' : `a ${String(kind)}`);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}
