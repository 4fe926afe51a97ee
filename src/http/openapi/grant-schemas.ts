/**
 * The wire shapes of mailbox grants (README "Delegated mailboxes"): what support and the appliance read of a grant
 * (src/http/mailbox-grants-api.ts, src/http/appliance-grants.ts) and the link a grant's creation answers.
 * Part of the OpenAPI document's components (schemas.ts); open answer schemas, as there.
 * @module
 */
import { GRANT_STATUSES } from '../../grants/grant-store.js';
import { dateTime, guid, orNull, ref, strings } from './schema-parts.js';
import type { Schema } from './types.js';

/** A mailbox grant's user, and why it cannot be used (src/grants/grant-store.ts GrantUser, GrantError). */
const grantUser: Schema = orNull({
  type: 'object',
  description: 'Who signed in: identified by `objectId`.',
  required: ['objectId', 'userPrincipalName'],
  properties: { objectId: guid, userPrincipalName: { type: 'string' } },
});
const grantError: Schema = orNull({
  type: 'object',
  description: "Microsoft's refusal (its AADSTS code) in plain words, when the user must sign in again.",
  required: ['code', 'message', 'at'],
  properties: { code: { type: 'string' }, message: { type: 'string' }, at: dateTime },
});

/** `listOf` is schemas.ts's page of items, passed in so that every list is built the same way. */
export function grantSchemas(listOf: (item: string, description: string) => Schema): Record<string, Schema> {
  return {
    MailboxGrantCreated: {
      type: 'object',
      description: 'The link for the mailbox’s user; shown only here (its code is stored as a hash).',
      required: ['id', 'consentUrl', 'expiresAt'],
      properties: {
        id: guid,
        consentUrl: {
          type: 'string',
          format: 'uri',
          description: 'Always `${BROKER_PUBLIC_URL}/mailbox-grants/{code}`: for the mailbox’s user to open.',
        },
        expiresAt: dateTime,
      },
    },
    MailboxGrant: {
      type: 'object',
      description:
        'One user’s delegated access to their mailbox for one appliance. `pending` until the user signs in with the link, `active` while the broker keeps their refresh token, `reauth_required` when Microsoft refused a refresh (`error` says why), `revoked` by support, `expired` when the link was not used in time.',
      required: [
        'id',
        'tenantId',
        'applianceId',
        'profiles',
        'mailbox',
        'status',
        'createdAt',
        'expiresAt',
        'user',
        'error',
      ],
      properties: {
        id: guid,
        tenantId: guid,
        applianceId: guid,
        profiles: strings,
        mailbox: orNull({ type: 'string', format: 'email' }),
        status: { type: 'string', enum: [...GRANT_STATUSES] },
        createdAt: dateTime,
        expiresAt: { ...dateTime, description: 'Until when the link can be used.' },
        createdBy: { type: 'string' },
        user: grantUser,
        error: grantError,
      },
    },
    MailboxGrantList: listOf('MailboxGrant', 'A page of mailbox grants, in id order.'),
    ApplianceMailboxGrant: {
      type: 'object',
      description: 'A mailbox grant as its appliance sees it.',
      required: ['id', 'status', 'profiles', 'mailbox', 'user', 'error'],
      properties: {
        id: guid,
        status: { type: 'string', enum: [...GRANT_STATUSES] },
        profiles: strings,
        mailbox: orNull({ type: 'string', format: 'email' }),
        user: grantUser,
        error: grantError,
        refresh_token: {
          type: 'string',
          description: 'The broker handle of an active grant, until its first use at the token endpoint.',
        },
      },
    },
    ApplianceMailboxGrantList: {
      type: 'object',
      required: ['items'],
      properties: { items: { type: 'array', items: ref('ApplianceMailboxGrant') } },
    },
  };
}
