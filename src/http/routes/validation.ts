/**
 * The support API's request bodies checked against the very schemas the OpenAPI document publishes
 * (src/http/openapi/request-schemas.ts), with ajv (JSON Schema 2020-12, the dialect of OpenAPI 3.1
 * §4.8.24). The schemas are compiled once, at the first request that needs one (not at import: the token
 * endpoint's cold start pays nothing for them), without the configured profile names: whether a profile
 * exists is the handler's question, answered with the names it knows. A refusal is a 400 problem that names
 * the field and gives the schema's reason, never the value sent.
 * @module
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import {
  APPLIANCE_REF_MAX_LENGTH,
  APPLIANCE_REF_PATTERN,
  CLIENT_SECRET_VALUE_PATTERN,
  CONTINUATION_TOKEN_PATTERN,
  CUSTOMER_REF_MAX_LENGTH,
  CUSTOMER_REF_PATTERN,
  DOMAIN_NAME_PATTERN,
  GUID_PATTERN,
  PROFILE_NAME_PATTERN,
} from '../../ids.js';
import { componentSchemas } from '../openapi/schemas.js';
import type { Schema } from '../openapi/types.js';
import { badRequest } from '../problem.js';

/** The request bodies of the support API that are validated here, with the shape each has once valid. */
export interface RequestBodies {
  /** `POST /api/onboardings` */
  readonly OnboardingRequest: {
    readonly customerRef: string;
    readonly applianceId?: string | null;
    readonly profiles?: readonly string[];
  };
  /** `POST /api/appliances` */
  readonly ApplianceRequest: {
    readonly customerRef: string;
    readonly tenantId?: string | null;
    readonly profiles: readonly string[];
    readonly auth: { readonly method: 'client_secret' | 'private_key_jwt' | 'none'; readonly jwks?: unknown };
  };
  /** `POST /api/tenants/{tenantId}/mailbox-grants` */
  readonly MailboxGrantRequest: {
    readonly applianceId: string;
    readonly profiles: readonly string[];
    readonly mailbox?: string;
  };
  /** `POST /appliance/mailbox-grants` */
  readonly ApplianceMailboxGrantRequest: { readonly profiles: readonly string[]; readonly mailbox?: string };
  /** `POST /api/tenants/{tenantId}/check` */
  readonly TenantCheckRequest: {
    readonly mailboxes?: readonly string[];
    readonly protocols?: readonly ('imap' | 'pop' | 'smtp' | 'ews')[];
    readonly grants?: readonly string[];
  };
  /** `POST /api/webhooks` */
  readonly WebhookRequest: { readonly url: string; readonly events?: readonly string[] };
  /** `PUT /api/tenants/{tenantId}/app-credential`: exactly one of `clientSecret` and `certificate`. */
  readonly AppCredentialRequest: {
    readonly clientId: string;
    readonly clientSecret?: string;
    readonly certificate?: string;
    readonly expiresOn: string;
  };
}
export type RequestBodyName = keyof RequestBodies;

const NAMES: readonly RequestBodyName[] = [
  'OnboardingRequest',
  'ApplianceRequest',
  'TenantCheckRequest',
  'AppCredentialRequest',
  'MailboxGrantRequest',
  'ApplianceMailboxGrantRequest',
  'WebhookRequest',
];
const BUNDLE = 'broker-request-schemas';

let compiled: ReadonlyMap<RequestBodyName, ValidateFunction> | undefined;

function validators(): ReadonlyMap<RequestBodyName, ValidateFunction> {
  if (compiled) return compiled;
  // strict: a keyword ajv does not know is an error, not ignored. Formats are not asserted (JSON Schema
  // 2020-12 Validation §7.2: an annotation by default): every format here has a pattern, or a parser in the
  // handler (mailbox addresses, src/support/mailbox-address.ts). verbose: errors carry their schema.
  const ajv = new Ajv2020({
    strict: true,
    strictRequired: false,
    allowUnionTypes: true,
    validateFormats: false,
    verbose: true,
  });
  const $defs = JSON.parse(
    JSON.stringify(componentSchemas()).replaceAll('"#/components/schemas/', `"${BUNDLE}#/$defs/`),
  ) as Record<string, object>;
  ajv.addSchema({ $id: BUNDLE, $defs });
  compiled = new Map(NAMES.map((name) => [name, ajv.compile({ $ref: `${BUNDLE}#/$defs/${name}` })]));
  return compiled;
}

/** `value` as the schema `name` describes it; else a 400 problem naming the field and the reason. */
export function validateBody<N extends RequestBodyName>(name: N, value: unknown): RequestBodies[N] {
  const check = validators().get(name)!;
  if (check(value)) return value as RequestBodies[N];
  throw badRequest(reasonOf(check.errors));
}

/**
 * The first of ajv's errors in words: the field as a dotted path (`auth.method`, `profiles.1`), then the
 * schema's rule. A `oneOf` is told as a whole ("exactly one of …"), not by the first branch that failed.
 */
export function reasonOf(errors: readonly ErrorObject[] | null | undefined): string {
  const error = errors?.find((e) => !e.schemaPath.includes('/oneOf/')) ?? errors?.[0];
  if (!error) return 'The body does not match its schema.';
  const at = error.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
  const field = (name: string) => (at ? `${at}.${name}` : name);
  const schema = (error.parentSchema ?? {}) as Schema;
  const subject = at || 'The body';
  switch (error.keyword) {
    case 'required':
      return `${field(String(error.params.missingProperty))} is required.`;
    case 'additionalProperties': {
      const allowed = Object.keys(schema.properties ?? {}).join(', ');
      return `Unknown field: ${field(String(error.params.additionalProperty).slice(0, 40))}; allowed: ${allowed}.`;
    }
    case 'type':
      return `${subject} must be ${article(String(error.params.type).split(',').join(' or '))}.`;
    case 'enum':
      return `${subject} must be one of ${(schema.enum ?? []).map((v) => JSON.stringify(v)).join(', ')}.`;
    case 'pattern': {
      const pattern = String(error.params.pattern);
      const words = PATTERN_WORDS.get(pattern);
      return words ? `${subject} must be ${words}.` : `${subject} must match the pattern ${pattern}.`;
    }
    case 'minimum':
    case 'maximum':
      return `${subject} must be ${bound(error.keyword)} ${String(error.params.limit)}.`;
    case 'minLength':
    case 'maxLength': {
      const limit = Number(error.params.limit);
      return `${subject} must be ${bound(error.keyword)} ${limit} character${limit === 1 ? '' : 's'} long.`;
    }
    case 'minItems': {
      const limit = Number(error.params.limit);
      return `${subject} must list at least ${limit} item${limit === 1 ? '' : 's'}.`;
    }
    case 'maxItems':
      return `${subject} may list at most ${String(error.params.limit)} items.`;
    case 'oneOf': {
      const choices = (schema.oneOf ?? []).flatMap((s) => ('required' in s ? (s.required ?? []) : []));
      return choices.length
        ? `${subject} must give exactly one of ${choices.map((c) => field(c)).join(' and ')}.`
        : `${subject} must match exactly one of its forms.`;
    }
    case 'uniqueItems': {
      const [first, second] = [Number(error.params.i), Number(error.params.j)].sort((x, y) => x - y);
      return `${subject} must not list the same item twice (items ${first} and ${second}).`;
    }
    default:
      // Any other rule in ajv's words, which state the schema's rule and never the value.
      return `${subject} ${error.message ?? 'is not valid'}.`;
  }
}

const bound = (keyword: string) => (keyword.startsWith('min') ? 'at least' : 'at most');
const article = (type: string) => (/^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`);

/** The formats of src/ids.ts in words, for a refusal; any other pattern is quoted as it is. */
const PATTERN_WORDS: ReadonlyMap<string, string> = new Map([
  [GUID_PATTERN, 'a GUID'],
  [CUSTOMER_REF_PATTERN, `1 to ${CUSTOMER_REF_MAX_LENGTH} printable characters`],
  [
    APPLIANCE_REF_PATTERN,
    `an appliance client id (letters, digits, dot, dash, underscore; at most ${APPLIANCE_REF_MAX_LENGTH})`,
  ],
  [PROFILE_NAME_PATTERN, 'a profile name (lower-case letters, digits and dashes, starting with a letter)'],
  [DOMAIN_NAME_PATTERN, 'a DNS domain name'],
  [CONTINUATION_TOKEN_PATTERN, 'a continuation token this API issued'],
  [CLIENT_SECRET_VALUE_PATTERN, 'the secret value (8 to 1024 printable characters, no spaces), not its id'],
]);
