/**
 * An appliance's own mailbox grants (src/http/routes/appliances.ts `applianceGrantRoutes`): list them, and read
 * one — with its broker handle as `refresh_token` while the grant is active and the handle unused
 * (src/vending/delegated.ts). Authenticated as at the token endpoint; another appliance's grant is a 404.
 * @module
 */
import type { Custody } from '../grants/custody.js';
import { handleAad } from '../grants/grant-sign-in.js';
import { effectiveGrantStatus, type MailboxGrant, type MailboxGrantStore } from '../grants/grant-store.js';
import type { ThrottledAuthDeps } from '../vending/authenticate.js';
import { GUID } from '../ids.js';
import { asAppliance, authenticateGet } from './appliance-onboardings.js';
import type { Logger } from './logger.js';
import { badRequest, notFound } from './problem.js';
import { readJsonBody } from './json-body.js';
import { refusal } from './mailbox-grants-api.js';
import { createMailboxGrant, type GrantDeps } from '../grants/grants.js';
import { isMailboxAddress } from '../support/mailbox-address.js';
import { jsonReply, type HttpReply, type HttpRequestLike } from './types.js';

export interface ApplianceGrantDeps extends ThrottledAuthDeps {
  readonly mailboxGrants: MailboxGrantStore;
  readonly custody: Custody;
}

const view = (g: MailboxGrant, now: Date) => ({
  id: g.id,
  status: effectiveGrantStatus(g, now),
  profiles: g.profiles,
  mailbox: g.mailbox,
  user: g.user,
  error: g.error,
});

/** `POST /appliance/mailbox-grants` */
export function postApplianceGrant(
  deps: ApplianceGrantDeps & Omit<GrantDeps, 'grants'>,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asAppliance(log, async () => {
    const { appliance } = await authenticateGet(deps, request);
    const body = await readJsonBody(request, 'ApplianceMailboxGrantRequest');
    if (body.mailbox !== undefined && !isMailboxAddress(body.mailbox))
      throw badRequest('mailbox: must be an email address (a dot-atom local part and a DNS domain name).');
    if (!appliance.tenantId) throw notFound('This appliance is not bound to a tenant yet.');
    const { grant, consentUrl } = await createMailboxGrant(
      { ...deps, grants: deps.mailboxGrants },
      {
        tenantId: appliance.tenantId,
        applianceId: appliance.clientId,
        profiles: body.profiles,
        ...(body.mailbox ? { mailbox: body.mailbox } : {}),
      },
      { kind: 'appliance', id: appliance.clientId },
    ).catch(refusal);
    return jsonReply(
      201,
      { id: grant.id, consentUrl, expiresAt: grant.expiresAt },
      { 'cache-control': 'no-store', location: `/appliance/mailbox-grants/${grant.id}` },
    );
  });
}

/** `GET /appliance/mailbox-grants` */
export function listApplianceGrants(
  deps: ApplianceGrantDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asAppliance(log, async () => {
    const { appliance } = await authenticateGet(deps, request);
    const grants = appliance.tenantId
      ? await deps.mailboxGrants.forAppliance(appliance.tenantId, appliance.clientId, 100)
      : [];
    const now = deps.now();
    return jsonReply(200, { items: grants.map((g) => view(g, now)) }, { 'cache-control': 'no-store' });
  });
}

/** `GET /appliance/mailbox-grants/{grantId}` */
export function getApplianceGrant(
  deps: ApplianceGrantDeps,
  request: HttpRequestLike,
  log: Logger,
): Promise<HttpReply> {
  return asAppliance(log, async () => {
    const { appliance } = await authenticateGet(deps, request);
    const id = request.params.grantId ?? '';
    const grant =
      GUID.test(id) && appliance.tenantId
        ? await deps.mailboxGrants.get(appliance.tenantId, id.toLowerCase())
        : undefined;
    if (!grant || grant.applianceId !== appliance.clientId)
      throw notFound('No such mailbox grant for this appliance.');
    const now = deps.now();
    const shown =
      effectiveGrantStatus(grant, now) === 'active' && grant.handle
        ? { refresh_token: await deps.custody.open(grant.handle, handleAad(grant.id)) }
        : {};
    return jsonReply(200, { ...view(grant, now), ...shown }, { 'cache-control': 'no-store' });
  });
}
