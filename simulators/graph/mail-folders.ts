/**
 * `GET /v1.0/users/{id | userPrincipalName}/mailFolders/{folder}`: a well-known folder of a user's mailbox
 * (microsoft-graph-docs-contrib `api-reference/v1.0/api/mailfolder-get.md`, `resources/mailfolder.md`). This is the
 * broker's mailbox probe, so the failures follow what Exchange Online answers through Graph:
 *
 * | case | answer | source |
 * |---|---|---|
 * | token without a Mail role | 403 `ErrorAccessDenied` "Access is denied. Check credentials and try again." | third-party only (widely quoted) |
 * | no such user in the tenant | 404 `ErrorInvalidUser` "The requested user '{x}' is invalid." | third-party only (several independent clients map 404 + this code) |
 * | user without an Exchange Online mailbox (unlicensed, guest, tenant without EXO) | 404 `MailboxNotEnabledForRESTAPI` "REST API is not yet supported for this mailbox." | third-party only; Microsoft troubleshooting article "REST API is not yet supported for this mailbox" |
 * | mailbox outside the app's application access policy / RBAC scope | 403 `ErrorAccessDenied` "Access to OData is disabled." | FACTS.md §6.4 (G-AAP) |
 * | unknown folder name or malformed id | 400 `ErrorInvalidIdMalformed` "Id is malformed." | third-party only |
 * @module
 */
import { createHash } from 'node:crypto';
import type { SimRoute } from '../common/server.js';
import { json } from '../common/server.js';
import type { SimMailbox, SimTenant, SimUser } from '../common/world.js';
import type { SimContext } from '../context.js';
import { authenticate, hasAnyRole } from './auth.js';
import { GraphFailure, graphRoute } from './errors.js';
import { assertQueryOptions, odataContext, project, selected } from './odata.js';

/**
 * Application permissions that open a mail folder. mailfolder-get.md lists Mail.Read and Mail.ReadWrite; the
 * ReadBasic variants are those G-AAP lists as mail permissions (that they suffice for a folder read is
 * **unverified**).
 */
export const MAIL_FOLDER_READ_ROLES = [
  'Mail.ReadBasic',
  'Mail.ReadBasic.All',
  'Mail.Read',
  'Mail.ReadWrite',
] as const;

/** Well-known folder names (mailfolder.md) the simulator serves, with their display names. */
const WELL_KNOWN: Readonly<Record<string, string>> = {
  msgfolderroot: 'Top of Information Store',
  inbox: 'Inbox',
  drafts: 'Drafts',
  sentitems: 'Sent Items',
  deleteditems: 'Deleted Items',
  junkemail: 'Junk Email',
  archive: 'Archive',
  outbox: 'Outbox',
};

const PROPERTIES = [
  'id',
  'displayName',
  'parentFolderId',
  'childFolderCount',
  'unreadItemCount',
  'totalItemCount',
  'sizeInBytes',
  'isHidden',
] as const;

export function mailFolderRoutes(ctx: SimContext): SimRoute[] {
  return [
    graphRoute('GET', '/v1.0/users/{user}/mailFolders/{folder}', async (req) => {
      const caller = await authenticate(ctx, req);
      if (!hasAnyRole(caller, MAIL_FOLDER_READ_ROLES))
        throw new GraphFailure(
          403,
          'ErrorAccessDenied',
          'Access is denied. Check credentials and try again.',
        );
      const key = req.params.user!;
      const user = findUser(caller.tenant, key);
      if (!user) throw new GraphFailure(404, 'ErrorInvalidUser', `The requested user '${key}' is invalid.`);
      const mailbox = mailboxOf(caller.tenant, user);
      if (!mailbox)
        throw new GraphFailure(
          404,
          'MailboxNotEnabledForRESTAPI',
          'REST API is not yet supported for this mailbox.',
        );
      // FACTS.md §6.4: an application access policy (or RBAC scope) that excludes the mailbox.
      if (mailbox.deniedAppIds.some((a) => a.toLowerCase() === caller.appId))
        throw new GraphFailure(403, 'ErrorAccessDenied', 'Access to OData is disabled.');
      const folderName = req.params.folder!.toLowerCase();
      const displayName = WELL_KNOWN[folderName];
      if (!displayName) throw new GraphFailure(400, 'ErrorInvalidIdMalformed', 'Id is malformed.');
      assertQueryOptions(req.url, ['$select']);
      const select = selected(req.url, 'mailFolder', PROPERTIES);
      const folder = {
        id: folderId(mailbox, folderName),
        displayName,
        parentFolderId: folderId(mailbox, 'msgfolderroot'),
        childFolderCount: 0,
        unreadItemCount: 0,
        totalItemCount: 0,
        sizeInBytes: 0,
        isHidden: false,
      };
      return json(200, {
        '@odata.context': odataContext(ctx.urls.graph, `users('${key}')/mailFolders`, select, true),
        ...project(folder, select),
      });
    }),
    // An app-only token has no signed-in user (wording as widely quoted; third-party only).
    graphRoute('GET', '/v1.0/me/mailFolders/{folder}', async (req) => {
      await authenticate(ctx, req);
      throw new GraphFailure(
        400,
        'BadRequest',
        '/me request is only valid with delegated authentication flow.',
      );
    }),
  ];
}

/** A user by object id or user principal name, or the owner of a mailbox with that address (shared mailboxes). */
function findUser(tenant: SimTenant, key: string): SimUser | undefined {
  const k = key.toLowerCase();
  const direct = tenant.users.find(
    (u) => u.objectId.toLowerCase() === k || u.userPrincipalName.toLowerCase() === k,
  );
  if (direct) return direct;
  const mailbox = tenant.mailboxes.find((m) => m.address === k);
  return mailbox ? tenant.users.find((u) => u.objectId === mailbox.userObjectId) : undefined;
}

/** The user's Exchange Online mailbox; none for guests or where the tenant has no Exchange Online. */
function mailboxOf(tenant: SimTenant, user: SimUser): SimMailbox | undefined {
  if (!tenant.hasExchangeOnline || user.guest) return undefined;
  return tenant.mailboxes.find((m) => m.userObjectId === user.objectId);
}

/** Exchange ids are opaque base64 strings ("AAMk…"); stable per mailbox and folder here. */
function folderId(mailbox: SimMailbox, folder: string): string {
  return `AAMk${createHash('sha256').update(`${mailbox.address}|${folder}`).digest('base64url').slice(0, 40)}AAA=`;
}
