/**
 * The support console's actions (issue 22), each through the same domain code and audit as its support API
 * route: run a check (`checkTenant`), exchange-setup.ps1 (`getExchangeSetupScript`), and for Broker.Admin a
 * consent link (`createOnboarding`), an appliance (`registerAppliance`, its secret shown once), an appliance's
 * revocation and secret rotation, and offboarding (`offboardTenant`, confirmed by typing the tenant id). The
 * actor is the signed-in staff member, as the API's is the token's. Each POST needs the session's CSRF token
 * (src/http/console-endpoints.ts `checkedForm`).
 * @module
 */
import {
  RegistryInputError,
  registerAppliance,
  revokeAppliance,
  rotateSecret,
  type RegistryDeps,
} from '../appliances/registry.js';
import type { ConsoleSession } from '../console/sessions.js';
import { createOnboarding } from '../consent/onboardings.js';
import type { ConsentDeps } from '../consent/types.js';
import { GUID } from '../ids.js';
import { offboardTenant, type OffboardDeps } from '../offboarding/offboard-tenant.js';
import { checkTenant, UnknownTenant, type CheckDeps } from '../support/checks.js';
import { MAX_CHECK_MAILBOXES, parseMailboxList } from '../support/mailbox-address.js';
import type { AuditActor } from '../audit/audit-log.js';
import type { TenantRecord } from '../tenants/tenant-store.js';
import { getExchangeSetupScript, type ExchangeSetupDeps } from './checks-api.js';
import { asConsole, checkedForm, Refusal, withSession, type ConsoleHttpDeps } from './console-endpoints.js';
import type { Logger } from './logger.js';
import {
  actionRefusedPage,
  checkResultPage,
  consentLinkPage,
  offboardedPage,
  secretOncePage,
} from './pages/console-action-pages.js';
import { pageReply } from './pages/index.js';
import { Problem } from './problem.js';
import type { HttpReply, HttpRequestLike } from './types.js';

export type ConsoleActionDeps = ConsoleHttpDeps &
  CheckDeps &
  ExchangeSetupDeps &
  RegistryDeps &
  OffboardDeps &
  Pick<ConsentDeps, 'onboardings' | 'settings'>;

const actorOf = (s: ConsoleSession): AuditActor => ({ kind: 'staff', id: s.objectId, name: s.displayName });

async function tenantOf(deps: ConsoleActionDeps, request: HttpRequestLike): Promise<TenantRecord> {
  const tenantId = (request.params.tenantId ?? '').toLowerCase();
  if (!GUID.test(tenantId)) throw new Refusal('notFound');
  const tenant = await deps.tenants.get(tenantId);
  if (!tenant) throw new Refusal('notFound');
  return tenant;
}

/** `POST /console/tenants/{tenantId}/check` (Broker.Read; a consent link in the remediations for Broker.Admin). */
export function consoleCheckEndpoint(deps: ConsoleActionDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, () =>
    withSession(deps, request, 'Broker.Read', async (session, id) => {
      const form = await checkedForm(deps, request, id);
      const tenant = await tenantOf(deps, request);
      const listed = (form.get('mailboxes') ?? '')
        .split(/[\s,;]+/)
        .map((m) => m.trim())
        .filter(Boolean);
      const parsed = parseMailboxList(listed, 'mailboxes', MAX_CHECK_MAILBOXES);
      if (!parsed.ok) return pageReply(actionRefusedPage(400, parsed.reason, tenant.tenantId));
      try {
        // One checkbox per protocol, `protocol:<name>` (a form field appears once: src/http/form-body.ts).
        const protocols = (['imap', 'pop', 'smtp', 'ews'] as const).filter((p) => form.has(`protocol:${p}`));
        const report = await checkTenant(deps, tenant.tenantId, {
          mailboxes: parsed.addresses,
          ...(protocols.length ? { protocols } : {}),
          actor: actorOf(session),
          consentLinks: session.roles.includes('Broker.Admin'),
        });
        return pageReply(checkResultPage(tenant, report));
      } catch (err) {
        if (err instanceof UnknownTenant) throw new Refusal('notFound');
        throw err;
      }
    }),
  );
}

/** `GET /console/tenants/{tenantId}/exchange-setup.ps1?mailboxes=` (Broker.Read): the API's script, as a download. */
export function consoleExchangeSetupEndpoint(deps: ConsoleActionDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, () =>
    withSession(deps, request, 'Broker.Read', async () => {
      const tenant = await tenantOf(deps, request);
      // The support API's own handler, on the API's path: the same validation and the same script.
      const asked = new URL(request.url).searchParams.get('mailboxes')?.trim();
      const url = new URL(`${deps.settings.publicUrl}/api/tenants/${tenant.tenantId}/exchange-setup.ps1`);
      if (asked) url.searchParams.set('mailboxes', asked.replace(/\s+/g, ''));
      try {
        const reply = await getExchangeSetupScript(deps, {
          method: 'GET',
          url: url.toString(),
          params: { tenantId: tenant.tenantId },
          headers: request.headers,
          text: async () => '',
        } as HttpRequestLike);
        return {
          ...reply,
          headers: {
            ...reply.headers,
            'content-disposition': `attachment; filename="exchange-setup-${tenant.tenantId}.ps1"`,
          },
        };
      } catch (err) {
        if (err instanceof Problem && err.status < 500)
          return pageReply(actionRefusedPage(err.status, err.detail ?? err.title, tenant.tenantId));
        throw err;
      }
    }),
  );
}

/** `POST /console/tenants/{tenantId}/onboardings` (Broker.Admin): a consent link for the tenant's profiles. */
export function consoleOnboardingEndpoint(deps: ConsoleActionDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, () =>
    withSession(deps, request, 'Broker.Admin', async (session, id) => {
      const form = await checkedForm(deps, request, id);
      const tenant = await tenantOf(deps, request);
      const customerRef = (form.get('customerRef') ?? '').trim();
      if (!/^[\x21-\x7e][\x20-\x7e]{0,127}$/.test(customerRef))
        return pageReply(
          actionRefusedPage(
            400,
            'The customer reference must be 1 to 128 printable characters.',
            tenant.tenantId,
          ),
        );
      const profiles = tenant.profiles.filter((p) => deps.profiles.get(p));
      const { consentUrl, onboarding } = await createOnboarding(
        deps,
        {
          customerRef,
          applianceId: null,
          profiles: profiles.length ? profiles : [...deps.profiles.profiles.keys()],
        },
        actorOf(session),
      );
      return pageReply(consentLinkPage(tenant, consentUrl, onboarding.expiresAt));
    }),
  );
}

/** `POST /console/tenants/{tenantId}/appliances` (Broker.Admin): an appliance with a client secret, shown once. */
export function consoleApplianceEndpoint(deps: ConsoleActionDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, () =>
    withSession(deps, request, 'Broker.Admin', async (session, id) => {
      const form = await checkedForm(deps, request, id);
      const tenant = await tenantOf(deps, request);
      if (tenant.status === 'offboarded')
        return pageReply(actionRefusedPage(409, 'The tenant is offboarded.', tenant.tenantId));
      const customerRef = (form.get('customerRef') ?? '').trim();
      // One checkbox per profile, `profile:<name>` (a form field appears once: src/http/form-body.ts).
      const profiles = [...form.keys()].filter((k) => k.startsWith('profile:')).map((k) => k.slice(8));
      try {
        const { appliance, clientSecret } = await registerAppliance(
          deps,
          { customerRef, tenantId: tenant.tenantId, profiles, method: 'client_secret' },
          actorOf(session),
        );
        return pageReply(
          secretOncePage({
            title: 'Appliance registered',
            tenantId: tenant.tenantId,
            clientId: appliance.clientId,
            clientSecret: clientSecret!,
          }),
        );
      } catch (err) {
        if (err instanceof RegistryInputError)
          return pageReply(actionRefusedPage(400, err.message, tenant.tenantId));
        throw err;
      }
    }),
  );
}

/** `POST /console/appliances/{clientId}/secret` and `…/revoke` (Broker.Admin). */
export function consoleApplianceChangeEndpoint(kind: 'secret' | 'revoke') {
  return (deps: ConsoleActionDeps, request: HttpRequestLike, log: Logger): Promise<HttpReply> =>
    asConsole(deps, log, () =>
      withSession(deps, request, 'Broker.Admin', async (session, id) => {
        await checkedForm(deps, request, id);
        const clientId = (request.params.clientId ?? '').toLowerCase();
        const appliance = GUID.test(clientId) ? await deps.appliances.get(clientId) : undefined;
        if (!appliance) throw new Refusal('notFound');
        try {
          if (kind === 'revoke') {
            await revokeAppliance(deps, appliance, actorOf(session));
            return pageReply(
              actionRefusedPage(200, `Appliance ${appliance.clientId} is revoked.`, appliance.tenantId),
            );
          }
          const rotated = await rotateSecret(deps, appliance, actorOf(session));
          return pageReply(
            secretOncePage({
              title: 'New appliance secret',
              tenantId: appliance.tenantId,
              clientId: appliance.clientId,
              clientSecret: rotated.clientSecret,
              note: `The previous secret keeps working until ${rotated.previousSecretValidUntil}.`,
            }),
          );
        } catch (err) {
          if (err instanceof RegistryInputError)
            return pageReply(actionRefusedPage(400, err.message, appliance.tenantId));
          throw err;
        }
      }),
    );
}

/** `POST /console/tenants/{tenantId}/offboard` (Broker.Admin), confirmed by typing the tenant id. */
export function consoleOffboardEndpoint(deps: ConsoleActionDeps, request: HttpRequestLike, log: Logger) {
  return asConsole(deps, log, () =>
    withSession(deps, request, 'Broker.Admin', async (session, id) => {
      const form = await checkedForm(deps, request, id);
      const tenant = await tenantOf(deps, request);
      if ((form.get('confirm') ?? '').trim().toLowerCase() !== tenant.tenantId)
        return pageReply(
          actionRefusedPage(
            400,
            `To offboard ${tenant.displayName ?? tenant.tenantId}, type its tenant id ${tenant.tenantId} to confirm.`,
            tenant.tenantId,
          ),
        );
      if (tenant.status === 'offboarded')
        return pageReply(actionRefusedPage(409, 'The tenant is already offboarded.', tenant.tenantId));
      return pageReply(offboardedPage(await offboardTenant(deps, tenant, actorOf(session))));
    }),
  );
}
