/**
 * The warning the broker logs at start while appliances still use a profile that is ending (the profiles
 * file's `deprecated`, e.g. `exchange-ews`: EWS ends in Exchange Online on 1 April 2027), so that the operator
 * hears of it before the date, not from the customers after it. Counted by paging through the appliances
 * (one query per 1,000), in the background: it never delays or fails the start.
 * @module
 */
import type { Profiles } from '../profiles/profiles.js';
import type { ApplianceStore } from './appliance-store.js';

const PAGE = 1000;

/** One line per ending profile some appliance uses, naming the date, the counts and how to list them. */
export async function endingProfileWarnings(deps: {
  readonly profiles: Profiles;
  readonly appliances: Pick<ApplianceStore, 'list'>;
}): Promise<string[]> {
  const warnings: string[] = [];
  for (const profile of deps.profiles.profiles.values()) {
    const ending = profile.deprecated;
    if (!ending) continue;
    let appliances = 0;
    const tenants = new Set<string>();
    let continuationToken: string | undefined;
    do {
      const page = await deps.appliances.list({ profile: profile.name, top: PAGE, continuationToken });
      for (const a of page.items)
        if (a.status === 'active') {
          appliances++;
          if (a.tenantId) tenants.add(a.tenantId);
        }
      continuationToken = page.continuationToken;
    } while (continuationToken);
    if (appliances > 0)
      warnings.push(
        `Profile ${profile.name} ends on ${ending.endsOn} (${ending.reason}); ${appliances} active appliance(s) of ${tenants.size} tenant(s) still use it: GET /api/appliances?profile=${profile.name} lists them${ending.replacedBy.length ? `; move them to ${ending.replacedBy.join(' or ')}` : ''}.`,
      );
  }
  return warnings;
}
