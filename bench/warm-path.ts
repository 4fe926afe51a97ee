/**
 * `npm run bench:warm-path [-- --tenants N]`: the broker's own JavaScript per warm token over many appliances,
 * without HTTP. It builds the token endpoint's in-memory state as the broker does (the real appliance
 * directory, token cache, usage recorder, verified credentials and throttle, over in-memory stores and an
 * Entra stand-in), for 10 appliances and for N (default 10,000), each with its own tenant and token, warms
 * both through the full grant, then times `vendFromMemory` and the answer's body (`tokenResponseBody`, its
 * UTF-8 length taken as the write would) round-robin over each population, in turns.
 *
 * It explains the `vend_p50_ms` target of `npm run bench -- --tenants 10000`: the same code over
 * 10,000 appliances reads records from memory that is not in the CPU's caches. `body` includes reading the
 * token text to send it, which no change can save; `checks` is the rest. A diagnostic, not a target: the
 * figures are nanoseconds per token on this machine, the 10-appliance figure being the baseline of the run.
 * @module
 */
import { bundleApps } from '../src/credentials/bundle-apps.js';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createRecordDirectory } from '../src/directory/record-directory.js';
import type { Appliance, ApplianceStore } from '../src/appliances/appliance-store.js';
import { createUsageRecorder } from '../src/appliances/usage.js';
import type { AuditLog } from '../src/audit/audit-log.js';
import { tokenResponseBody } from '../src/vending/warm-path.js';
import { loadProfiles } from '../src/profiles/profiles.js';
import { newTenantRecord, type TenantRecord, type TenantStore } from '../src/tenants/tenant-store.js';
import { createTokenCache } from '../src/vending/token-cache.js';
import { createAuthThrottle } from '../src/vending/auth-throttle.js';
import { issueToken, vendFromMemory, type TokenRequest, type VendDeps } from '../src/vending/issue.js';
import { createVerifiedCredentials } from '../src/vending/warm-path.js';
import { basic } from './population.js';

const EXCHANGE = 'https://outlook.office365.com/.default';
/** The size of an Entra access token in the sandbox (bench/run.ts measures with the same). */
const TOKEN_CHARS = 1400;
const ROUNDS = 8;
const PER_ROUND = 200_000;

interface Population {
  readonly size: number;
  readonly deps: VendDeps;
  /** Each appliance's Authorization header as received: a new string per request, as Node's parser makes. */
  request(i: number): TokenRequest;
  close(): Promise<void>;
}

async function populate(size: number): Promise<Population> {
  const key = randomBytes(32);
  const keyed = (purpose: string, data: string) =>
    createHmac('sha256', key).update(`${purpose}\u0000${data}`).digest('base64url');
  const appliances = new Map<string, Appliance>();
  const tenants = new Map<string, TenantRecord>();
  const headers: Buffer[] = [];
  for (let i = 0; i < size; i++) {
    const tenantId = randomUUID();
    const secret = randomBytes(32).toString('base64url');
    const appliance: Appliance = {
      clientId: randomUUID(),
      customerRef: `WARM-${i}`,
      tenantId,
      profiles: ['exchange-imap'],
      authMethod: 'client_secret',
      secrets: [
        {
          verifier: keyed('appliance-client-secret', secret),
          createdAt: new Date().toISOString(),
          validUntil: null,
        },
      ],
      jwks: [],
      status: 'active',
      createdAt: new Date().toISOString(),
      createdBy: 'bench',
      revokedAt: null,
      lastSeenAt: null,
      tokenCount: 0,
    };
    appliances.set(appliance.clientId, appliance);
    tenants.set(tenantId, {
      ...newTenantRecord(tenantId),
      status: 'active',
      verifiedDomains: [`tenant${i}.example`],
      grantedRoles: { [EXCHANGE]: ['IMAP.AccessAsApp'] },
    });
    headers.push(Buffer.from(basic(appliance.clientId, secret)));
  }
  // In-memory stand-ins for the stores: only what the directory and the usage recorder call. A read gives a
  // new object, as a table read does.
  const stores = {
    appliances: {
      get: (id: string) => Promise.resolve(structuredClone(appliances.get(id))),
      addUsage: () => Promise.resolve(new Set<string>()),
    } as unknown as ApplianceStore,
    tenants: {
      get: (id: string) => Promise.resolve(structuredClone(tenants.get(id))),
      advanceLastTokenAt: () => Promise.resolve(new Set<string>()),
    } as unknown as TenantStore,
  };
  const usage = createUsageRecorder({
    ...stores,
    audit: { write: () => Promise.resolve() } as unknown as AuditLog,
  });
  const tokens = createTokenCache({
    entra: {
      acquireAppToken: (tenantId) =>
        Promise.resolve({
          accessToken: `eyJ${randomBytes((TOKEN_CHARS * 3) / 4).toString('base64url')}`,
          expiresOn: new Date(Date.now() + 3_600_000),
          roles: ['IMAP.AccessAsApp'],
          servicePrincipalId: randomUUID(),
          tenantId,
        }),
    },
  });
  const form: ReadonlyMap<string, string> = new Map([
    ['grant_type', 'client_credentials'],
    ['scope', EXCHANGE],
  ]);
  const profiles = await loadProfiles(undefined);
  const deps: VendDeps = {
    directory: createRecordDirectory(stores),
    keys: { derive: (purpose, data) => Promise.resolve(keyed(purpose, data)) },
    jtis: { use: () => Promise.resolve(true) },
    audiences: ['http://localhost:7071/oauth2/token'],
    now: () => new Date(),
    verified: createVerifiedCredentials(),
    profiles,
    tokens: { of: () => tokens },
    apps: bundleApps(profiles, {
      homeAppClientId: '3b8e6d0a-57c4-4f0e-8d2b-a1c9e4f7b250',
      homeAppCredential: { kind: 'secret', secret: 'unused' },
      bundleApps: new Map(),
    }),
    recordUsage: (clientId, tenantId) => usage.record(clientId, tenantId),
    usageCounter: (clientId, tenantId) => usage.counter(clientId, tenantId),
    throttle: createAuthThrottle(),
  };
  const request = (i: number): TokenRequest => ({
    authorization: headers[i]!.toString('latin1'),
    form,
    sourceAddress: '127.0.0.1',
  });
  // Twice through the full grant (verifies, loads, fetches; then remembers), then once warm (keeps the checks).
  for (let round = 0; round < 2; round++) for (let i = 0; i < size; i++) await issueToken(deps, request(i));
  for (let i = 0; i < size; i++)
    if (vendFromMemory(deps, request(i)) === undefined) throw new Error(`appliance ${i} is not warm`);
  return {
    size,
    deps,
    request,
    close: async () => {
      tokens.close();
      await usage.stop();
    },
  };
}

/** Nanoseconds per token: the warm grant alone (`checks`), or with the answer's body (`body`). */
function time(p: Population, withBody: boolean): number {
  let bytes = 0;
  const started = process.hrtime.bigint();
  for (let k = 0, i = 0; k < PER_ROUND; k++) {
    const vended = vendFromMemory(p.deps, p.request(i));
    if (vended === undefined) throw new Error(`appliance ${i} left the warm path`);
    if (withBody) bytes += Buffer.byteLength(tokenResponseBody(vended));
    if (++i === p.size) i = 0;
  }
  const ns = Number(process.hrtime.bigint() - started) / PER_ROUND;
  if (withBody && bytes === 0) throw new Error('no body');
  return ns;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const i = process.argv.indexOf('--tenants');
  const many = i >= 0 ? Number(process.argv[i + 1]) : 10_000;
  if (!Number.isInteger(many) || many < 11) throw new Error('--tenants must be an integer > 10');
  const few = await populate(10);
  const lots = await populate(many);
  const figures: Record<string, number> = {};
  for (const withBody of [false, true]) {
    const a: number[] = [];
    const b: number[] = [];
    // In turns, so that a slow moment of the machine hits both.
    for (let round = 0; round < ROUNDS; round++) {
      a.push(time(few, withBody));
      b.push(time(lots, withBody));
    }
    const what = withBody ? 'with_body' : 'checks';
    figures[`${what}_ns_10`] = Math.round(median(a));
    figures[`${what}_ns_${many}`] = Math.round(median(b));
    figures[`${what}_extra_ns`] = Math.round(median(b) - median(a));
    console.log(
      `${what.padEnd(9)} ${median(a).toFixed(0)} ns per token over 10 appliances, ${median(b).toFixed(0)} ns over ${many} ` +
        `(medians of ${ROUNDS} rounds of ${PER_ROUND.toLocaleString('en')} tokens)`,
    );
  }
  await Promise.all([few.close(), lots.close()]);
  console.log(JSON.stringify(figures));
}

await main();
