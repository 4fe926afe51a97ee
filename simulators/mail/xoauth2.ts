/**
 * SASL XOAUTH2 as Exchange Online checks it for IMAP, POP and SMTP AUTH
 * (https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth,
 * "OAuth page" below): `base64("user=" + address + "^Aauth=Bearer " + token + "^A^A")`; the token signed by the
 * simulated Entra ID and in force, for Exchange Online (`aud` https://outlook.office365.com,
 * https://outlook.office.com or its app id); delegated with the protocol's scope (`IMAP.AccessAsUser.All`,
 * `POP.AccessAsUser.All`, `SMTP.Send`) for the user named (its `upn`, or a shared mailbox that user has Full Access
 * to: the OAuth page's "shared mailbox access"), or app-only with the protocol's role (`IMAP.AccessAsApp`,
 * `POP.AccessAsApp`, `SMTP.SendAsApp`) for a mailbox of its tenant that no access policy denies to its app, the app's
 * service principal registered in Exchange and the mailbox granted to it (`exchangeGrants`).
 * @module
 */
import { audienceIn } from '../common/clouds.js';
import { EXCHANGE_APP_ID } from '../common/well-known.js';
import type { SimMailbox, SimTenant } from '../common/world.js';
import type { SimContext } from '../context.js';

const EXCHANGE_AUDIENCES = ['https://outlook.office365.com', 'https://outlook.office.com'];

export type MailProtocol = 'imap' | 'pop' | 'smtp';

const SCOPES: Readonly<Record<MailProtocol, { delegated: string; application: string }>> = {
  imap: { delegated: 'IMAP.AccessAsUser.All', application: 'IMAP.AccessAsApp' },
  pop: { delegated: 'POP.AccessAsUser.All', application: 'POP.AccessAsApp' },
  smtp: { delegated: 'SMTP.Send', application: 'SMTP.SendAsApp' },
};

/** Who logged in: the tenant, the address (lower case) and its mailbox if it has one. */
export interface MailLogin {
  readonly tenant: SimTenant;
  readonly address: string;
  readonly mailbox: SimMailbox | undefined;
}

/** The login a SASL XOAUTH2 initial response gives for `protocol`, or undefined when Exchange refuses it. */
export async function xoauth2Login(
  ctx: SimContext,
  sasl: string,
  protocol: MailProtocol,
): Promise<MailLogin | undefined> {
  const [userPart, authPart, ...rest] = Buffer.from(sasl, 'base64').toString('utf8').split('\u0001');
  if (
    !userPart?.startsWith('user=') ||
    !authPart?.startsWith('auth=Bearer ') ||
    rest.length !== 2 ||
    rest.join('') !== ''
  )
    return undefined;
  const address = userPart.slice(5).toLowerCase();
  let claims: Record<string, unknown>;
  try {
    claims = await ctx.keys.verify(authPart.slice(12));
  } catch {
    return undefined;
  }
  if (!audienceIn(claims.aud, EXCHANGE_AUDIENCES, EXCHANGE_APP_ID)) return undefined;
  const tenant = typeof claims.tid === 'string' ? ctx.world.tenants.get(claims.tid) : undefined;
  if (!tenant) return undefined;
  const mailbox = tenant.mailboxes.find((b) => b.address === address);
  const scope = SCOPES[protocol];
  const scp = typeof claims.scp === 'string' ? claims.scp.split(' ') : [];
  if (scp.includes(scope.delegated)) {
    const upn = typeof claims.upn === 'string' ? claims.upn : claims.preferred_username;
    if (typeof upn === 'string' && upn.toLowerCase() === address) return { tenant, address, mailbox };
    return mailbox?.fullAccess?.includes(String(claims.oid)) ? { tenant, address, mailbox } : undefined;
  }
  const roles = Array.isArray(claims.roles) ? claims.roles : [];
  const appId = typeof claims.appid === 'string' ? claims.appid : claims.azp;
  if (!roles.includes(scope.application) || !mailbox || mailbox.deniedAppIds.includes(String(appId)))
    return undefined;
  return exchangeGrants(tenant, String(appId), address) ? { tenant, address, mailbox } : undefined;
}

/**
 * Whether Exchange lets app `appId` into `address`: its service principal registered in Exchange and the mailbox
 * granted to it (SimTenant.exchangeServicePrincipals; absent, every app and mailbox, the sandbox's default).
 */
function exchangeGrants(tenant: SimTenant, appId: string, address: string): boolean {
  const registered = tenant.exchangeServicePrincipals;
  if (!registered) return true;
  const sp = registered.find((r) => r.appId.toLowerCase() === appId.toLowerCase());
  return sp !== undefined && (sp.mailboxes === 'all' || sp.mailboxes.includes(address));
}

/** SMTP AUTH for the mailbox: its own setting where it has one, else the tenant's (Set-TransportConfig). */
export function smtpAuthDisabled(login: MailLogin): 'tenant' | 'mailbox' | undefined {
  const own = login.mailbox?.smtpClientAuthenticationDisabled;
  if (own === true) return 'mailbox';
  if (own === false) return undefined;
  return login.tenant.smtpClientAuthenticationDisabled ? 'tenant' : undefined;
}
