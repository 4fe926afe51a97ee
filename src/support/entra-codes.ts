/**
 * What an Entra refusal of an app-only token means for a customer tenant, in plain words, and what its admin
 * can do about it (FACTS.md §3). Branch on the AADSTS number, never on Entra's description text (E-ERR).
 * @module
 */
import { REPLICATION_CODES } from '../tenants/transitions.js';

/**
 * The consent is not there: no enterprise application (AADSTS7000229) or app not found (AADSTS700016); the
 * same codes the tenant lifecycle reads as "not yet replicated, or removed" (src/tenants/transitions.ts).
 */
export const CONSENT_MISSING_CODES: ReadonlySet<string> = REPLICATION_CODES;

export interface Explanation {
  readonly detail: string;
  readonly remediation: string;
}

/**
 * `code` is `AADSTS<n>` or an OAuth error; `resource` the resource's display name; `consentUrl` a fresh consent
 * link where one was made (the remediation of a missing consent).
 */
export function explainEntraRefusal(code: string, resource: string, consentUrl: string | null): Explanation {
  const link = consentUrl
    ? `open this consent link and approve: ${consentUrl}`
    : 'open a new consent link from the vendor and approve (vendor support with Broker.Admin gets one by running this check, or with POST /api/onboardings)';
  switch (code.replace(/^AADSTS/, '')) {
    case '7000229':
      // FACTS.md §3: "missing service principal in the tenant" = the enterprise application was deleted (or never made).
      return {
        detail: `Entra ID refused a token for ${resource} (AADSTS7000229): the vendor's enterprise application does not exist in this tenant, so its consent has been removed.`,
        remediation: `An administrator of the tenant (Global Administrator or Privileged Role Administrator) must ${link}`,
      };
    case '700016':
      // FACTS.md §3: app not found in the tenant; also briefly right after a consent (directory replication).
      return {
        detail: `Entra ID refused a token for ${resource} (AADSTS700016): it does not find the vendor's application in this tenant. The consent is missing, or was given moments ago and has not reached every Entra ID server yet.`,
        remediation: `If the consent was given in the last few minutes, run the check again shortly. Otherwise an administrator of the tenant must ${link}`,
      };
    case '7000112':
      return {
        detail: `Entra ID refused a token for ${resource} (AADSTS7000112): the vendor's enterprise application is disabled in this tenant.`,
        remediation:
          'In the Microsoft Entra admin center, open Enterprise applications, select the vendor\'s application, and under Properties set "Enabled for users to sign in?" to Yes.',
      };
    case '53003':
      return {
        detail: `Entra ID refused a token for ${resource} (AADSTS53003): a Conditional Access policy blocks the vendor's application.`,
        remediation:
          "In the Microsoft Entra admin center, find the Conditional Access policy for workload identities that blocks the vendor's application (the sign-in logs for service principals name it) and exclude the application.",
      };
    case '500011':
      return {
        detail: `Entra ID refused a token for ${resource} (AADSTS500011): ${resource} is not provisioned in this tenant (no service principal for it).`,
        remediation: `Make sure the tenant has an active subscription that includes ${resource} (for Exchange Online: a mailbox licence), or stop using the profiles that need it.`,
      };
    case '650052':
      return {
        detail: `Entra ID refused a token for ${resource} (AADSTS650052): the tenant has no subscription to the service the app needs.`,
        remediation: `Add a subscription that includes ${resource}, or stop using the profiles that need it.`,
      };
    case '90002':
      return {
        detail: `Entra ID does not know this tenant (AADSTS90002): it was deleted, or lives in another Microsoft cloud.`,
        remediation:
          'Check the tenant id with the customer; national-cloud tenants need a broker in that cloud.',
      };
    default:
      return {
        detail: `Entra ID refused a token for ${resource} (${code}).`,
        remediation: `Give the vendor this code (${code}); if the consent may have changed, an administrator can ${link}`,
      };
  }
}
