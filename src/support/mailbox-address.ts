/**
 * Which mailbox addresses the support routes accept. An address is sent to Microsoft Graph in a path and written
 * into Exchange PowerShell, so the rule is narrower than RFC 5321/5322 allows: a dot-atom local part (RFC 5322
 * §3.2.3 `atext`, without `$`, `` ` `` and `"` — never needed in practice, and special in PowerShell) and a DNS
 * domain name of letters, digits and hyphens (no address literals, no internationalised addresses). A refused
 * address is named by its position only: it is never echoed back, and never reaches a script.
 * @module
 */

/** At most this many mailboxes per live check (each is a Graph call). */
export const MAX_CHECK_MAILBOXES = 20;
/** At most this many mailboxes in one generated script. */
export const MAX_SCRIPT_MAILBOXES = 100;

// RFC 5322 §3.2.3 atext minus $ ` (and " is not atext): letters, digits and ! # % & ' * + - / = ? ^ _ { | } ~
const ATOM = "[A-Za-z0-9!#%&'*+/=?^_{|}~-]+";
const LOCAL = new RegExp(`^${ATOM}(?:\\.${ATOM})*$`);
// RFC 1035 §2.3.1 labels (letters, digits, hyphens inside), at least two labels, an alphabetic top-level label.
const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const DOMAIN = new RegExp(`^(?:${LABEL}\\.)+[A-Za-z]{2,63}$`);

/** True for an address the broker will probe and put into a script. */
export function isMailboxAddress(value: string): boolean {
  // RFC 5321 §4.5.3.1: local part at most 64 octets, a path at most 256 (so an address at most 254).
  if (value.length > 254) return false;
  const at = value.lastIndexOf('@');
  if (at < 1) return false;
  const local = value.slice(0, at);
  const domain = value.slice(at + 1);
  return local.length <= 64 && domain.length <= 253 && LOCAL.test(local) && DOMAIN.test(domain);
}

export type MailboxListResult =
  | { readonly ok: true; readonly addresses: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Validates a list of addresses: at most `max`, each a string {@link isMailboxAddress} accepts. Duplicates
 * (compared case-insensitively) are dropped; the first spelling is kept. The reason names the index, never the value.
 */
export function parseMailboxList(values: readonly unknown[], field: string, max: number): MailboxListResult {
  if (values.length > max)
    return { ok: false, reason: `${field} may list at most ${max} addresses (got ${values.length}).` };
  const seen = new Set<string>();
  const addresses: string[] = [];
  for (const [i, v] of values.entries()) {
    if (typeof v !== 'string' || !isMailboxAddress(v))
      return {
        ok: false,
        reason: `${field}[${i}] is not a valid email address (user@domain, ASCII letters, digits and . _ - + ' only in common use).`,
      };
    const key = v.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    addresses.push(v);
  }
  return { ok: true, addresses };
}
