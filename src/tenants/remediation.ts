/**
 * What an admin (or vendor support) can do about a tenant's `lastError`, in plain words, by its code: an Entra
 * refusal (`AADSTS<n>`, FACTS.md §3) or one of the broker's own codes. The lifecycle (src/tenants/lifecycle.ts
 * `lastErrorFor`) attaches it to every error it records.
 * @module
 */

/** The remediation shown with a tenant's `lastError` of this code. */
export function remediationFor(code: string): string {
  const n = code.replace(/^AADSTS/, '');
  switch (n) {
    case '7000112':
      return 'The enterprise application is disabled in your tenant: enable it in Entra ID > Enterprise applications > Properties ("Enabled for users to sign in").';
    case '53003':
      return 'A Conditional Access policy blocks the application: exclude it from the policy, or allow it, then open the consent link again.';
    case '700016':
    case '7000229':
      return 'The consent is not (or no longer) present in your tenant: open the consent link again and approve.';
    case 'verification_timeout':
      return 'Open the consent link again and approve; if it keeps failing, contact the vendor with this code.';
    case 'credential_expiring':
    case 'credential_expired':
      // The tenant's own app credential ("bring your own app", src/credentials/expiry.ts).
      return 'Create a new client secret or certificate for that app registration in the customer tenant and store it with PUT /api/tenants/{tenantId}/app-credential.';
    default:
      return 'Open the consent link again; if it fails again, give the vendor this code.';
  }
}
