/**
 * Bundles of profiles (issue 23 "Home apps per bundle"): how the profiles file groups them, each group served
 * by one multitenant app of its own.
 */
import { PROFILE_NAME } from '../ids.js';
import type { Profile, Profiles, Resource } from './profiles.js';

/**
 * A group of profiles served by one multitenant app registration of its own (issue 23 "Home apps per bundle"):
 * `/.default` consent grants every permission an app lists (FACTS.md §1.1) and application permissions cannot
 * be asked for one by one, so the only way for a customer to grant less is to consent to fewer apps. Every
 * profile is in exactly one bundle. A profiles file without `bundles` has one, `home`, holding every profile:
 * the deployment of one home app.
 */
export interface Bundle {
  readonly name: string;
  /** What it is for, in plain words for the consent pages (e.g. "Mail over IMAP, POP and SMTP"). */
  readonly title: string;
  readonly profiles: readonly Profile[];
  /**
   * The first bundle: served by the home app (HOME_APP_CLIENT_ID, HOME_APP_CREDENTIAL_NAME); each other by its
   * own settings (src/config.ts `bundleApps`).
   */
  readonly home: boolean;
}

/** The one bundle of a profiles file that declares none. */
export const HOME_BUNDLE = 'home';

/**
 * What refuses an appliance asking for `names`: application profiles of one resource that different bundles
 * serve. An app-only token carries the roles of one app, so such an appliance could use only one of them
 * (register one appliance per bundle instead). Empty when there is none.
 */
export function profilesSplitAcrossBundles(profiles: Profiles, names: readonly string[]): string[] {
  const byResource = new Map<string, { resource: Resource; bundles: Map<string, string[]> }>();
  for (const name of names) {
    const p = profiles.get(name);
    if (p?.kind !== 'application') continue;
    const entry = byResource.get(p.resource.scope) ?? { resource: p.resource, bundles: new Map() };
    byResource.set(p.resource.scope, entry);
    const bundle = profiles.bundleOf(name).name;
    entry.bundles.set(bundle, [...(entry.bundles.get(bundle) ?? []), name]);
  }
  return [...byResource.values()]
    .filter((e) => e.bundles.size > 1)
    .map(
      (e) =>
        `Profiles ${[...e.bundles].map(([b, ps]) => `${ps.join(', ')} (bundle ${b})`).join(' and ')} reach ${e.resource.displayName} through different apps, and a token carries one app's permissions: register an appliance for each bundle.`,
    );
}

/**
 * The file's `bundles` (an array of `{name, title, profiles}`), or the one home bundle when it has none. Each
 * profile must be in exactly one bundle, so that its tokens come from one app.
 */
export function bundlesOf(
  doc: unknown,
  profiles: ReadonlyMap<string, Profile>,
  problems: string[],
): Bundle[] {
  if (doc === undefined)
    return [
      {
        name: HOME_BUNDLE,
        title: 'Everything this service offers',
        profiles: [...profiles.values()],
        home: true,
      },
    ];
  if (!Array.isArray(doc) || doc.length === 0) {
    problems.push(
      '"bundles" must be a non-empty array of {name, title, profiles} (or left out: one home app)',
    );
    return [];
  }
  const bundles: Bundle[] = [];
  const placed = new Map<string, string>();
  doc.forEach((b: unknown, i: number) => {
    const label = isObject(b) && typeof b.name === 'string' ? ` ("${b.name}")` : '';
    const at = `bundles[${i}]${label}`;
    if (!isObject(b)) return problems.push(`${at}: must be an object with name, title and profiles`);
    const name = str(b.name);
    // Upper-cased into its settings' names (BUNDLE_<NAME>_CLIENT_ID): letters, digits and dashes only.
    if (!PROFILE_NAME.test(name)) problems.push(`${at}.name: must be lower-case letters, digits and dashes`);
    else if (bundles.some((o) => o.name === name)) problems.push(`${at}.name: "${name}" is defined twice`);
    if (!str(b.title)) problems.push(`${at}.title: must say in plain words what the bundle is for`);
    if (!Array.isArray(b.profiles) || b.profiles.length === 0)
      return problems.push(`${at}.profiles: must be a non-empty array of profile names`);
    const members: Profile[] = [];
    for (const n of b.profiles.map(str)) {
      const profile = profiles.get(n);
      if (!profile) problems.push(`${at}.profiles: names ${JSON.stringify(n)}, not a profile`);
      else if (placed.has(n))
        problems.push(
          `${at}.profiles: "${n}" is already in bundle "${placed.get(n)}"; a profile is in one bundle`,
        );
      else {
        placed.set(n, name);
        members.push(profile);
      }
    }
    bundles.push({ name, title: str(b.title), profiles: members, home: bundles.length === 0 });
    return undefined;
  });
  for (const name of profiles.keys())
    if (!placed.has(name))
      problems.push(`bundles: profile "${name}" is in no bundle; each profile is in one`);
  return bundles;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string {
  return typeof v === 'string' ? v.trim() : '';
}
