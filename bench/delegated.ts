/**
 * The bench's mailbox grants (README "Delegated mailboxes"): for each bench tenant, a user in the simulated
 * tenant, an appliance with the delegated IMAP profile (POST /api/appliances), a grant for that user
 * (POST /api/tenants/{id}/mailbox-grants), the user's sign-in through the broker at the simulated Microsoft
 * (the fetch-driven browser), and the appliance's handle (GET /appliance/mailbox-grants/{id}) — the path a real
 * grant takes, so that the measured vend is `grant_type=refresh_token` with a handle the broker really holds.
 * And the model of what 10,000 grants in use cost per hour in Key Vault and Table Storage operations, from the
 * operations one refresh, one directory read and one rotation were measured to take (bench/cost-probe.ts).
 * @module
 */
import type { World } from '../simulators/common/world.js';
import { ConsentBrowser } from '../test/helpers/consent-browser.js';
import { addOps, NO_OPS, refreshPeriodMinutes, scaleOps, type Ops } from './cost.js';
import { basic, inParallel } from './population.js';

export const DELEGATED_PROFILE = 'user-imap';
export const DELEGATED_SCOPE = 'https://outlook.office365.com/IMAP.AccessAsUser.All';

export interface BenchGrant {
  readonly tenantId: string;
  readonly grantId: string;
  /** `Basic …` of the grant's appliance. */
  readonly authorization: string;
  /** The form of its refresh at the token endpoint. */
  readonly form: string;
}

export const refreshForm = (handle: string) =>
  new URLSearchParams({
    grant_type: 'refresh_token',
    refresh_token: handle,
    scope: DELEGATED_SCOPE,
  }).toString();

async function call<T>(url: string, init: RequestInit, expect: number): Promise<T> {
  const res = await fetch(url, init);
  const text = await res.text();
  if (res.status !== expect)
    throw new Error(`${init.method ?? 'GET'} ${new URL(url).pathname}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** One active grant per tenant, through the real sign-in. */
export async function makeGrants(
  ctx: { readonly brokerUrl: string; readonly staffToken: string; readonly world: World },
  tenantIds: readonly string[],
): Promise<BenchGrant[]> {
  const staff = { authorization: `Bearer ${ctx.staffToken}`, 'content-type': 'application/json' };
  return inParallel(tenantIds, 8, async (tenantId) => {
    const tenant = ctx.world.tenants.get(tenantId.toLowerCase());
    if (!tenant) throw new Error(`no simulated tenant ${tenantId}`);
    const domain = (tenant.domains.find((d) => !d.isInitial) ?? tenant.domains[0])?.name;
    const user = `mailbox@${domain}`;
    ctx.world.addUser(tenant, { userPrincipalName: user, displayName: 'Bench mailbox user' });
    const appliance = await call<{ clientId: string; clientSecret: string }>(
      `${ctx.brokerUrl}/api/appliances`,
      {
        method: 'POST',
        headers: staff,
        body: JSON.stringify({
          customerRef: `BENCH-GRANT-${tenantId.slice(0, 8)}`,
          tenantId,
          profiles: [DELEGATED_PROFILE],
          auth: { method: 'client_secret' },
        }),
      },
      201,
    );
    const grant = await call<{ id: string; consentUrl: string }>(
      `${ctx.brokerUrl}/api/tenants/${tenantId}/mailbox-grants`,
      {
        method: 'POST',
        headers: staff,
        body: JSON.stringify({
          applianceId: appliance.clientId,
          profiles: [DELEGATED_PROFILE],
          mailbox: user,
        }),
      },
      201,
    );
    const browser = new ConsentBrowser(ctx.brokerUrl, ctx.brokerUrl);
    const done = await browser.submit(await browser.open(`${grant.consentUrl}/go`), { login: user });
    if (done.status !== 200) throw new Error(`grant sign-in for ${tenantId}: page ${done.status}`);
    const authorization = basic(appliance.clientId, appliance.clientSecret);
    const read = await call<{ refresh_token?: string }>(
      `${ctx.brokerUrl}/appliance/mailbox-grants/${grant.id}`,
      { headers: { authorization } },
      200,
    );
    if (!read.refresh_token) throw new Error(`grant ${grant.id} shows no handle`);
    return { tenantId, grantId: grant.id, authorization, form: refreshForm(read.refresh_token) };
  });
}

/** What each piece of a grant's upkeep was measured to cost (bench/cost-probe.ts). */
export interface MeasuredGrantCosts {
  /** One access-token refresh of a grant: Entra, the grant's row read, any Key Vault unwrap. */
  readonly refresh: Ops;
  /** The two loads of a grant into an instance's directory: its handle's link, and its row. */
  readonly linkRead: Ops;
  readonly rowRead: Ops;
  /** Keeping a rotated refresh token: the row's conditional write and its two journal rows. */
  readonly rotation: Ops;
  /** One unwrap of a data key (an instance's first open of a grant sealed under a key it has not seen). */
  readonly unwrap: Ops;
}

export interface GrantCostInputs {
  readonly grants: number;
  readonly instances: number;
  /** Refreshes of a grant each appliance asks per hour (the bench's app-only model: 60). */
  readonly requestsPerGrantHour: number;
  readonly tokenLifetimeMinutes: number;
  readonly refreshAheadMinutes: number;
  readonly directoryTrustMinutes: number;
  /** A handle's link is read again after this long (HANDLE_REF_TRUSTED_MS, 24 h). */
  readonly linkTrustMinutes: number;
  /** The kept refresh token is replaced once it is older than this (src/grants/grant-tokens.ts: 24 h). */
  readonly rotationHours: number;
  /** Distinct data keys an instance opens per start (one per instance that sealed grants). */
  readonly dataKeysPerStart: number;
  readonly startsPerInstanceMonth: number;
}

/**
 * Operations per hour for the grants of a deployment: each instance refreshes each grant it serves once per
 * token life less the refresh lead (load spread over instances, every instance serving every grant: the upper
 * bound, as the app-only model), re-reads each grant's two directory entries every `directoryTrustMinutes`,
 * keeps a rotated refresh token once per `rotationHours` per grant (whichever instance wins), and unwraps its
 * data keys once per start.
 */
export function grantOpsPerHour(
  inputs: GrantCostInputs,
  m: MeasuredGrantCosts,
): { lines: [string, Ops][]; total: Ops } {
  const perInstanceInterval = (60 / inputs.requestsPerGrantHour) * inputs.instances;
  const refreshMinutes = refreshPeriodMinutes(
    inputs.tokenLifetimeMinutes - inputs.refreshAheadMinutes,
    perInstanceInterval,
  );
  const directoryMinutes = Math.max(inputs.directoryTrustMinutes, perInstanceInterval);
  const linkMinutes = Math.max(inputs.linkTrustMinutes, perInstanceInterval);
  const g = inputs.grants * inputs.instances;
  const lines: [string, Ops][] = [
    [
      `access-token refreshes (every ${refreshMinutes.toFixed(0)} min per grant per instance)`,
      scaleOps(m.refresh, (g * 60) / refreshMinutes),
    ],
    [
      `directory re-reads of the grant (every ${directoryMinutes} min per grant per instance)`,
      scaleOps(m.rowRead, (g * 60) / directoryMinutes),
    ],
    [
      `directory re-reads of the handle's link (every ${linkMinutes / 60} h per grant per instance)`,
      scaleOps(m.linkRead, (g * 60) / linkMinutes),
    ],
    [
      `rotated refresh token kept (every ${inputs.rotationHours} h per grant)`,
      scaleOps(m.rotation, inputs.grants / inputs.rotationHours),
    ],
    [
      `data key unwraps (${inputs.dataKeysPerStart} per instance start, ${inputs.startsPerInstanceMonth} starts a month)`,
      scaleOps(m.unwrap, (inputs.instances * inputs.dataKeysPerStart * inputs.startsPerInstanceMonth) / 730),
    ],
  ];
  return { lines, total: lines.reduce((sum, [, ops]) => addOps(sum, ops), NO_OPS) };
}
