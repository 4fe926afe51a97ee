/**
 * The support console's routes (issue 22): `GET /console`, `GET /console/signin`, `GET /console/callback`,
 * `POST /console/signout`, `GET /console/tenants`, `GET /console/tenants/{tenantId}`. Sign-in and sessions are
 * src/console/; the pages src/http/pages/console-pages.ts; the data comes from the same stores the support API
 * reads. Every page but the sign-in's needs a live session (else: to the sign-in); every state-changing form
 * carries the session's CSRF token, and a browser's `Origin` other than the broker's is refused.
 *
 * Cookies, as the consent flow's (src/http/consent-endpoints.ts): over https `__Host-` cookies (Secure, Path=/,
 * no Domain), HttpOnly, SameSite=Lax; on an http localhost plain host-only cookies. The session cookie is signed
 * (`signedSessionCookie`). The session cookie lives as
 * long as the session's absolute limit; the browser-key cookie of the sign-in as long as its state.
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import { InvalidContinuationToken } from '../adapters/tables/port.js';
import type { ApplianceStore } from '../appliances/appliance-store.js';
import type { AuditLog } from '../audit/audit-log.js';
import {
  consoleCallback,
  ConsoleRefused,
  startConsoleSignIn,
  type ConsoleSignInDeps,
} from '../console/sign-in.js';
import {
  csrfTokenFor,
  csrfTokenValid,
  mayDo,
  SESSION_ABSOLUTE_SECONDS,
  SESSION_ID_PATTERN,
  type ConsoleSession,
} from '../console/sessions.js';
import { readOverview, type OverviewDeps } from '../console/overview.js';
import type { MailboxGrantStore } from '../grants/grant-store.js';
import { tokenBars } from './pages/console-chart.js';
import { GUID } from '../ids.js';
import type { Profiles } from '../profiles/profiles.js';
import type { WebhookStore } from '../webhooks/store.js';
import type { StaffRole } from '../support/staff-auth.js';
import { grantsOf, TENANT_STATUSES, type TenantStatus, type TenantStore } from '../tenants/tenant-store.js';
import { cookieValues, query, redirect } from './consent-endpoints.js';
import { parseForm } from './form-body.js';
import type { Logger } from './logger.js';
import { outageOf } from './outage.js';
import {
  consoleOverviewPage,
  consoleRefusalPage,
  consoleSignedOutPage,
  consoleTenantsPage,
  type ConsoleFrame,
  type ConsoleRefusalPage,
} from './pages/console-pages.js';
import { errorPageFor, pageReply } from './pages/index.js';
import { consoleTenantPage } from './pages/console-tenant-page.js';
import { consoleWebhooksPage } from './pages/console-webhooks-page.js';
import type { HttpReply, HttpRequestLike } from './types.js';

export interface ConsoleHttpDeps extends ConsoleSignInDeps, OverviewDeps {
  readonly vendorName: string;
  readonly tenants: TenantStore;
  readonly appliances: ApplianceStore;
  readonly mailboxGrants: MailboxGrantStore;
  readonly audit: AuditLog;
  readonly profiles: Profiles;
  readonly now: () => Date;
}

const secure = (deps: Pick<ConsoleHttpDeps, 'settings'>) => deps.settings.publicUrl.startsWith('https:');
const sessionCookieName = (deps: Pick<ConsoleHttpDeps, 'settings'>) =>
  secure(deps) ? '__Host-console-session' : 'console-session';
const browserCookieName = (deps: Pick<ConsoleHttpDeps, 'settings'>) =>
  secure(deps) ? '__Host-console-browser' : 'console-browser';
const cookie = (deps: Pick<ConsoleHttpDeps, 'settings'>, name: string, value: string, maxAge: number) =>
  `${name}=${value}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Lax${secure(deps) ? '; Secure' : ''}`;

/**
 * The session cookie's value: the session id and the broker key's HMAC of it (`<id>.<mac>`), so that a value the
 * broker did not issue is refused before any table read; the id alone is what the session table knows (by hash).
 */
async function signedSessionCookie(deps: Pick<ConsoleHttpDeps, 'keys'>, id: string): Promise<string> {
  return `${id}.${await deps.keys.derive('console-session-cookie', id)}`;
}

/** The session id of a cookie value the broker signed, else undefined (compared in constant time). */
async function sessionIdOf(deps: Pick<ConsoleHttpDeps, 'keys'>, value: string): Promise<string | undefined> {
  const [id, mac, ...rest] = value.split('.');
  if (!id || !mac || rest.length || !SESSION_ID_PATTERN.test(id)) return undefined;
  const expected = Buffer.from(await deps.keys.derive('console-session-cookie', id));
  const given = Buffer.from(mac);
  return expected.length === given.length && timingSafeEqual(expected, given) ? id : undefined;
}

export class Refusal extends Error {
  constructor(
    readonly page: ConsoleRefusalPage,
    readonly code?: string,
  ) {
    super(page);
  }
}

/** Runs a step; renders refusals, outages and the unexpected as pages (never a stack trace). */
export async function asConsole(deps: ConsoleHttpDeps, log: Logger, step: () => Promise<HttpReply>) {
  try {
    return await step();
  } catch (err) {
    if (err instanceof ConsoleRefused) return pageReply(consoleRefusalPage(err.reason, err.code));
    if (err instanceof Refusal) return pageReply(consoleRefusalPage(err.page, err.code));
    const outage = outageOf(err);
    if (outage) {
      log.warn(`console: ${outage.service} unavailable`);
      return pageReply(
        errorPageFor('temporarilyUnavailable', {
          vendorName: deps.vendorName,
          retryAfterSeconds: outage.retryAfterSeconds,
        }),
      );
    }
    log.error(`console: unexpected ${err instanceof Error ? err.name : 'error'}`);
    return pageReply(errorPageFor('serverError', { vendorName: deps.vendorName }));
  }
}

/**
 * The request's live session and the frame of its pages; without one, the browser goes to the sign-in. A role
 * the session lacks is a refusal page.
 */
export async function withSession(
  deps: ConsoleHttpDeps,
  request: HttpRequestLike,
  need: StaffRole,
  use: (session: ConsoleSession, id: string, frame: ConsoleFrame) => Promise<HttpReply>,
): Promise<HttpReply> {
  for (const value of cookieValues(request, sessionCookieName(deps))) {
    const id = await sessionIdOf(deps, value);
    if (!id) continue;
    const session = await deps.sessions.get(id);
    if (!session) continue;
    if (!mayDo(session, need)) throw new Refusal('needsAdmin');
    const frame = {
      displayName: session.displayName,
      roles: session.roles,
      csrfToken: await csrfTokenFor(deps.keys, id),
    };
    return use(session, id, frame);
  }
  return redirect('/console/signin');
}

/** A state-changing form: from the broker's own pages (Origin), with the session's CSRF token. */
export async function checkedForm(
  deps: ConsoleHttpDeps,
  request: HttpRequestLike,
  sessionId: string,
): Promise<Map<string, string>> {
  const origin = request.headers.get('origin');
  if (origin !== null && origin !== 'null' && origin !== new URL(deps.settings.publicUrl).origin)
    throw new Refusal('csrf');
  let form: Map<string, string>;
  try {
    form = parseForm(await request.text(), request.headers.get('content-type'));
  } catch {
    throw new Refusal('csrf');
  }
  if (!(await csrfTokenValid(deps.keys, sessionId, form.get('csrf')))) throw new Refusal('csrf');
  return form;
}

/** `GET /console/signin` */
export function consoleSignInEndpoint(deps: ConsoleHttpDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, async () => {
    const [presented] = cookieValues(request, browserCookieName(deps));
    const { location, browserKey } = await startConsoleSignIn(deps, presented);
    return redirect(location, {
      'set-cookie': cookie(deps, browserCookieName(deps), browserKey, deps.settings.stateTtlSeconds),
    });
  });
}

/** `GET /console/callback` */
export function consoleCallbackEndpoint(deps: ConsoleHttpDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, async () => {
    const sessionId = await consoleCallback(
      deps,
      query(request),
      cookieValues(request, browserCookieName(deps)),
    );
    return redirect('/console', {
      'set-cookie': cookie(
        deps,
        sessionCookieName(deps),
        await signedSessionCookie(deps, sessionId),
        SESSION_ABSOLUTE_SECONDS,
      ),
    });
  });
}

/** `POST /console/signout` */
export function consoleSignOutEndpoint(deps: ConsoleHttpDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, () =>
    withSession(deps, request, 'Broker.Read', async (session, id) => {
      await checkedForm(deps, request, id);
      await deps.sessions.end(id);
      await deps.audit.write({
        action: 'console.signed_out',
        tenantId: null,
        actor: { kind: 'staff', id: session.objectId, name: session.displayName },
        details: {},
      });
      const reply = pageReply(consoleSignedOutPage());
      return {
        ...reply,
        headers: { ...reply.headers, 'set-cookie': cookie(deps, sessionCookieName(deps), '', 0) },
      };
    }),
  );
}

/** `GET /console` */
export function consoleOverviewEndpoint(deps: ConsoleHttpDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, () =>
    withSession(deps, request, 'Broker.Read', async (_session, _id, frame) => {
      const o = await readOverview(deps);
      return pageReply(
        consoleOverviewPage({
          frame,
          counts: o.counts,
          attention: o.attention,
          appliancesSeen: o.appliancesSeen,
          partial: o.partial,
          tokens: tokenBars(o.perHour, deps.now().getTime()),
          credentials: o.credentials,
          reauth: o.reauth,
        }),
      );
    }),
  );
}

/** `GET /console/tenants?q=&status=&profile=&page=` */
export function consoleTenantsEndpoint(deps: ConsoleHttpDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, () =>
    withSession(deps, request, 'Broker.Read', async (_session, _id, frame) => {
      const q = query(request);
      const search = (q.get('q') ?? '').trim().slice(0, 256);
      const statusParam = q.get('status') ?? '';
      const profile = q.get('profile') ?? '';
      const page = q.get('page') ?? undefined;
      const profileNames = [...deps.profiles.profiles.keys()];
      const base = { frame, search, profile, profileNames, items: [] };
      const status = (TENANT_STATUSES as readonly string[]).includes(statusParam)
        ? (statusParam as TenantStatus)
        : '';
      if (statusParam && !status)
        return pageReply(
          consoleTenantsPage({ ...base, status, problem: `There is no status "${statusParam}".` }),
        );
      if (profile && !deps.profiles.get(profile))
        return pageReply(
          consoleTenantsPage({ ...base, status, problem: `There is no profile "${profile}".` }),
        );
      // A tenant id opens its page; an address or a name with a dot is a domain; anything else a customer reference.
      if (GUID.test(search)) {
        const tenant = await deps.tenants.get(search.toLowerCase());
        if (tenant) return redirect(`/console/tenants/${tenant.tenantId}`);
        return pageReply(consoleTenantsPage({ ...base, status, searchedFor: `tenant id ${search}` }));
      }
      const domain = search.includes('.')
        ? search.slice(search.lastIndexOf('@') + 1).toLowerCase()
        : undefined;
      const customerRef = search && domain === undefined ? search : undefined;
      let result;
      try {
        result = await deps.tenants.list({
          ...(status ? { status } : {}),
          ...(profile ? { profile } : {}),
          ...(domain ? { domain } : {}),
          ...(customerRef ? { customerRef } : {}),
          top: 50,
          ...(page ? { continuationToken: page } : {}),
        });
      } catch (err) {
        if (!(err instanceof InvalidContinuationToken)) throw err;
        return pageReply(
          consoleTenantsPage({ ...base, status, problem: 'That page link is no longer valid.' }),
        );
      }
      const next = new URLSearchParams({
        ...(search ? { q: search } : {}),
        ...(status ? { status } : {}),
        ...(profile ? { profile } : {}),
      });
      if (result.continuationToken) next.set('page', result.continuationToken);
      return pageReply(
        consoleTenantsPage({
          ...base,
          status,
          items: result.items,
          ...(result.continuationToken ? { nextUrl: `/console/tenants?${next.toString()}` } : {}),
          ...(domain ? { searchedFor: `domain ${domain}` } : {}),
          ...(customerRef ? { searchedFor: `customer reference ${customerRef}` } : {}),
        }),
      );
    }),
  );
}

/** `GET /console/tenants/{tenantId}` */
export function consoleTenantEndpoint(deps: ConsoleHttpDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, () =>
    withSession(deps, request, 'Broker.Read', async (_session, _id, frame) => {
      const tenantId = (request.params.tenantId ?? '').toLowerCase();
      if (!GUID.test(tenantId)) throw new Refusal('notFound');
      const tenant = await deps.tenants.get(tenantId);
      if (!tenant) throw new Refusal('notFound');
      const since = new Date(deps.now().getTime() - 90 * 86_400_000);
      const [appliances, grants, audit] = await Promise.all([
        deps.appliances.list({ tenantId, top: 100 }),
        deps.mailboxGrants.list(tenantId, { top: 50 }),
        deps.audit.list({ tenantId, since, top: 200 }),
      ]);
      return pageReply(
        consoleTenantPage({
          frame,
          tenant,
          appliances: appliances.items,
          grants: grants.items,
          audit: [...audit.items].reverse(),
          ...(deps.apps.all.length > 1
            ? {
                bundles: deps.apps.all.flatMap((app) => {
                  const grants = grantsOf(tenant, app);
                  return grants ? [{ bundle: app.bundle.name, grantedRoles: grants.grantedRoles }] : [];
                }),
              }
            : {}),
        }),
      );
    }),
  );
}

/** `GET /console/webhooks` */
export function consoleWebhooksEndpoint(
  deps: ConsoleHttpDeps & { readonly webhooks: WebhookStore },
  request: HttpRequestLike,
  log: Logger,
) {
  return asConsole(deps, log, () =>
    withSession(deps, request, 'Broker.Read', async (_session, _id, frame) => {
      const endpoints = await deps.webhooks.listEndpoints();
      const withLog = await Promise.all(
        endpoints.map(async (endpoint) => ({
          endpoint,
          deliveries: await deps.webhooks.recentDeliveries(endpoint.id, 20),
        })),
      );
      return pageReply(consoleWebhooksPage({ frame, endpoints: withLog }));
    }),
  );
}
