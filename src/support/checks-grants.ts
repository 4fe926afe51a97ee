/**
 * "Test Connection" for delegated mailboxes (README "Delegated mailboxes"; issue 21 item 3): for each mailbox grant
 * checked, the user's refresh token the broker keeps is redeemed now for each of the grant's scopes (what the PBX's
 * next refresh would do), and each IMAP / POP / SMTP profile of the grant is logged in to as the PBX would, with the
 * user's access token and the grant's address (the shared mailbox it names, else the user's own). Exchange's answer
 * is turned into the fix for that user and mailbox:
 * - the grant not active, or Entra refusing the refresh now (which makes it `reauth_required`, as at the token
 *   endpoint): the user must sign in again through a fresh grant; Microsoft's code and its reason;
 * - SMTP `535 5.7.139 … disabled for the Tenant|Mailbox`: as for app-only logins (src/support/checks-protocols.ts);
 * - IMAP `User is authenticated but not connected.`: IMAP off for the mailbox (Set-CASMailbox -ImapEnabled);
 * - a refused login to a shared mailbox: the user lacks Full Access to it (Add-MailboxPermission -User … -AccessRights
 *   FullAccess, the OAuth page's "shared mailbox access",
 *   https://learn.microsoft.com/exchange/client-developer/legacy-protocols/how-to-authenticate-an-imap-pop-smtp-application-by-using-oauth);
 *   to the user's own mailbox: the protocol off for it (Set-CASMailbox -ImapEnabled/-PopEnabled, POP answers a
 *   refused login then) or the mailbox not in Exchange Online.
 * EWS with a user's token is not logged in to (the token is redeemed and checked; EWS ends on 1 April 2027:
 * src/adapters/exchange/port.ts). No service principal is involved: delegated access needs no Exchange registration.
 * @module
 */
import { EntraRefused, EntraUnavailable } from '../adapters/entra/port.js';
import { SignInRefused } from '../adapters/entra/sign-in.js';
import type { MailProtocol, MailProtocols } from '../adapters/exchange/port.js';
import { SecretStoreUnavailable } from '../adapters/keyvault/port.js';
import { grantAccessToken, GrantUnusable, type GrantTokenDeps } from '../grants/grant-tokens.js';
import { effectiveGrantStatus, type MailboxGrant } from '../grants/grant-store.js';
import type { DelegatedPermission, Profiles } from '../profiles/profiles.js';
import {
  classifyLogin,
  NAME,
  probeOrUnavailable,
  refusedLogin,
  type ProtocolCheck,
} from './checks-protocols.js';
import { psQuote } from './powershell.js';

/** At most this many of a tenant's grants are checked in one check (each costs Entra requests and logins). */
export const MAX_GRANT_CHECKS = 5;

/** The delegated scope each protocol's login needs (FACTS.md, the OAuth page's "Get an access token"). */
const PROTOCOL_OF_SCOPE: Readonly<Record<string, MailProtocol>> = {
  'IMAP.AccessAsUser.All': 'imap',
  'POP.AccessAsUser.All': 'pop',
  'SMTP.Send': 'smtp',
};

export interface GrantCheckDeps {
  readonly signIns: GrantTokenDeps;
  readonly mail: MailProtocols;
  readonly profiles: Profiles;
  readonly now: () => Date;
}

/** Why a grant's check failed, besides the login causes of checks-protocols.ts. */
export type GrantCause = ProtocolCheck['cause'] | 'reauthRequired' | 'notActive' | 'noFullAccess';

export interface GrantCheck extends Omit<ProtocolCheck, 'cause'> {
  readonly cause: GrantCause;
}

/**
 * The checks of `grants` (of one tenant, already chosen by the caller), logins limited to `protocols` when given.
 * Names: `grant:{id}` for the grant's tokens, `grant:{id}:{protocol}` for each login.
 */
export async function grantChecks(
  deps: GrantCheckDeps,
  grants: readonly MailboxGrant[],
  protocols: readonly string[] | undefined,
): Promise<GrantCheck[]> {
  const all = await Promise.all(grants.map((g) => oneGrant(deps, g, protocols)));
  return all.flat();
}

async function oneGrant(
  deps: GrantCheckDeps,
  grant: MailboxGrant,
  protocols: readonly string[] | undefined,
): Promise<GrantCheck[]> {
  const name = `grant:${grant.id}`;
  const status = effectiveGrantStatus(grant, deps.now());
  const upn = grant.user?.userPrincipalName;
  const address = grant.mailbox ?? upn;
  const fresh = freshGrant(grant);
  if (status !== 'active' || !address || !upn)
    return [
      {
        name,
        cause: status === 'reauth_required' ? 'reauthRequired' : 'notActive',
        ok: false,
        detail:
          status === 'reauth_required'
            ? `The mailbox grant for ${address ?? 'its user'} needs the user to sign in again: ${grant.error?.message ?? 'Microsoft refused the sign-in'} (${grant.error?.code ?? 'no code'}).`
            : `The mailbox grant is ${status}: the appliance cannot use it.`,
        remediation:
          status === 'revoked' || status === 'reauth_required' || status === 'expired' ? fresh : null,
      },
    ];

  const scopes: DelegatedPermission[] = grant.profiles.flatMap((n) => deps.profiles.get(n)?.scopes ?? []);
  const tokens = new Map<string, string>();
  let failure: GrantCheck | undefined;
  await Promise.all(
    scopes.map(async (scope) => {
      try {
        tokens.set(scope.value, (await grantAccessToken(deps.signIns, grant, scope.tokenScope)).accessToken);
      } catch (err) {
        failure ??= tokenFailure(name, address, err, fresh);
      }
    }),
  );
  if (failure) return [failure];

  const logins = scopes
    .map((s) => PROTOCOL_OF_SCOPE[s.value])
    .filter((p): p is MailProtocol => p !== undefined && (!protocols || protocols.includes(p)));
  const checks: GrantCheck[] = [
    {
      name,
      cause: 'ok',
      ok: true,
      detail: `${upn}'s sign-in still works: Entra ID issued a token for ${scopes.map((s) => s.value).join(', ')}.`,
      remediation: null,
    },
  ];
  const shared = grant.mailbox !== null && grant.mailbox !== upn.toLowerCase();
  // The grant's logins at once, as the app-only ones are (checks-protocols.ts).
  const done = await Promise.all(
    [...new Set(logins)].map((protocol) => {
      const scope = scopes.find((s) => PROTOCOL_OF_SCOPE[s.value] === protocol)!;
      return login(
        deps.mail,
        `${name}:${protocol}`,
        protocol,
        address,
        tokens.get(scope.value)!,
        upn,
        shared,
      );
    }),
  );
  return [...checks, ...done];
}

async function login(
  mail: MailProtocols,
  name: string,
  protocol: MailProtocol,
  address: string,
  accessToken: string,
  upn: string,
  shared: boolean,
): Promise<GrantCheck> {
  const probe = await probeOrUnavailable(mail, protocol, address, accessToken);
  if (!('outcome' in probe)) return { name, ...probe };
  const m = psQuote(address);
  const as = shared ? `${address} (shared, signed in as ${upn})` : address;
  const common = classifyLogin(probe, as, address);
  if (common) return { name, ...common };
  if (protocol === 'imap' && probe.step === 'command' && /authenticated but not connected/i.test(probe.reply))
    return {
      name,
      cause: 'notConnected',
      ok: false,
      detail: `${upn}'s token was accepted but ${address} did not open: IMAP is turned off for it. Exchange answered "${probe.reply}" at ${probe.step}.`,
      remediation: `An Exchange administrator turns IMAP on for the mailbox:\nSet-CASMailbox -Identity ${m} -ImapEnabled $true`,
    };
  if (probe.step === 'auth' && refusedLogin(protocol, probe.reply)) {
    const said = `Exchange answered "${probe.reply}" at ${probe.step}.`;
    const protocolOff =
      protocol === 'pop'
        ? `\nand, if POP is off for it:\nSet-CASMailbox -Identity ${m} -PopEnabled $true`
        : '';
    if (shared)
      return {
        name,
        cause: 'noFullAccess',
        ok: false,
        detail: `Exchange refused ${upn}'s ${NAME[protocol]} login to the shared mailbox ${address}: ${upn} has no Full Access to it (or it is not in Exchange Online). ${said}`,
        remediation: `An Exchange administrator gives the user Full Access to the shared mailbox:\nAdd-MailboxPermission -Identity ${m} -User ${psQuote(upn)} -AccessRights FullAccess -InheritanceType All${protocolOff}`,
      };
    return {
      name,
      cause: 'loginRefused',
      ok: false,
      detail: `Exchange refused ${upn}'s ${NAME[protocol]} login to their own mailbox: ${protocol === 'smtp' ? 'SMTP AUTH' : NAME[protocol]} is off for it, or it is not in Exchange Online. ${said}`,
      remediation:
        protocol === 'smtp'
          ? `An Exchange administrator runs:\nSet-CASMailbox -Identity ${m} -SmtpClientAuthenticationDisabled $false`
          : `An Exchange administrator runs:\nSet-CASMailbox -Identity ${m} -${protocol === 'imap' ? 'Imap' : 'Pop'}Enabled $true`,
    };
  }
  return {
    name,
    cause: 'unknown',
    ok: false,
    detail: `${NAME[protocol]} login as ${address} with ${upn}'s token failed with a reply the broker does not recognise. Exchange answered "${probe.reply}" at ${probe.step}.`,
    remediation: 'Give support this reply; it is shown exactly as Exchange sent it.',
  };
}

/** A refresh that failed now: Entra's refusal (the grant is now reauth_required) or an outage. */
function tokenFailure(name: string, address: string, err: unknown, fresh: string): GrantCheck {
  if (err instanceof GrantUnusable)
    return {
      name,
      cause: 'reauthRequired',
      ok: false,
      detail: `Entra ID refused the refresh of ${address}'s sign-in just now: ${err.message}${err.code ? ` (${err.code})` : ''}. The grant is now reauth_required.`,
      remediation: fresh,
    };
  if (err instanceof EntraUnavailable || err instanceof SecretStoreUnavailable)
    return {
      name,
      cause: 'unavailable',
      ok: null,
      detail: `The user's sign-in could not be refreshed now (${err instanceof EntraUnavailable ? 'Entra ID' : 'Key Vault'} unavailable); nothing changed.`,
      remediation: 'Try the check again in a few minutes.',
    };
  if (err instanceof SignInRefused || err instanceof EntraRefused)
    return {
      name,
      cause: 'unknown',
      ok: false,
      detail: `Entra ID refused a token for ${address}: ${err.message}.`,
      remediation: 'Give support this answer; the grant was left as it is.',
    };
  throw err;
}

/** What support does for a grant that cannot work any more: a fresh one for the same appliance and mailbox. */
function freshGrant(grant: MailboxGrant): string {
  const body = JSON.stringify({
    applianceId: grant.applianceId,
    profiles: grant.profiles,
    ...(grant.mailbox ? { mailbox: grant.mailbox } : {}),
  });
  return `The user signs in again through a fresh grant: support creates one (POST /api/tenants/${grant.tenantId}/mailbox-grants ${body}) and gives the user its link, then revokes this one (DELETE /api/tenants/${grant.tenantId}/mailbox-grants/${grant.id}).`;
}
