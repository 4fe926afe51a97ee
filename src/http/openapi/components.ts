/**
 * Shared parts of the OpenAPI document: headers, parameters, answers and security schemes, each matching
 * what the code sends (src/http/problem.ts, support-api.ts, token-endpoint.ts, pages/document.ts).
 * @module
 */
import type { Header, MediaType, Parameter, Reference, Response, Schema, SecurityScheme } from './types.js';
import { CONTINUATION_TOKEN_MAX_LENGTH, CONTINUATION_TOKEN_PATTERN, GUID_PATTERN } from '../../ids.js';
import { MAX_JSON_BODY_BYTES, PAGE_SIZE } from '../routes/limits.js';
import { ref } from './schemas.js';

export const headerRef = (name: string): Reference => ({ $ref: `#/components/headers/${name}` });
export const responseRef = (name: string): Reference => ({ $ref: `#/components/responses/${name}` });
export const parameterRef = (name: string): Reference => ({ $ref: `#/components/parameters/${name}` });

export const json = (schema: Schema): Readonly<Record<string, MediaType>> => ({
  'application/json': { schema },
});
export const problemJson: Readonly<Record<string, MediaType>> = {
  'application/problem+json': { schema: ref('Problem') },
};
export const html: Readonly<Record<string, MediaType>> = {
  'text/html': { schema: { type: 'string', description: 'A complete HTML5 document without scripts.' } },
};

export const headers: Record<string, Header> = {
  RetryAfter: {
    description: 'RFC 9110 §10.2.3: seconds to wait before trying again.',
    required: true,
    schema: { type: 'integer', minimum: 1 },
  },
  CacheControlNoStore: { description: 'Never cached.', schema: { const: 'no-store' } },
  Pragma: { description: 'HTTP/1.0 caches (RFC 6749 §5.1).', schema: { const: 'no-cache' } },
  Location: {
    description: 'Where the new resource is.',
    schema: { type: 'string', format: 'uri-reference' },
  },
  BearerChallenge: {
    description:
      'RFC 6750 §3: `Bearer realm="consent-broker"`, with `error="invalid_request"` (malformed header) or `error="invalid_token"` (expired, wrong tenant or audience, bad signature) when a token was sent.',
    required: true,
    schema: { type: 'string', pattern: '^Bearer realm="consent-broker"' },
  },
  InsufficientScope: {
    description: 'RFC 6750 §3.1: the token lacks the app role the route needs.',
    required: true,
    schema: { const: 'Bearer realm="consent-broker", error="insufficient_scope"' },
  },
  BasicChallenge: {
    description: 'RFC 7617: the client may authenticate with HTTP Basic.',
    schema: { const: 'Basic realm="consent-broker", charset="UTF-8"' },
  },
  ContentSecurityPolicy: {
    description: 'Pages run no script and load only the stylesheet from this origin.',
    schema: { type: 'string' },
  },
  ReferrerPolicy: {
    description: 'Consent links and states are never sent to another site in Referer.',
    schema: { const: 'no-referrer' },
  },
};

/** A problem+json answer with the headers every problem carries. */
const problem = (description: string, extra: Readonly<Record<string, Reference>> = {}): Response => ({
  description,
  headers: { 'Cache-Control': headerRef('CacheControlNoStore'), ...extra },
  content: problemJson,
});

export const responses: Record<string, Response> = {
  BadRequest: problem('Bad input: a malformed id, an unknown or repeated query parameter, an invalid field.'),
  Unauthorized: problem('No valid bearer token from the vendor tenant.', {
    'WWW-Authenticate': headerRef('BearerChallenge'),
  }),
  Forbidden: problem('The token does not carry the app role this route needs.', {
    'WWW-Authenticate': headerRef('InsufficientScope'),
  }),
  NotFound: problem('No such resource.'),
  ContentTooLarge: problem(`The JSON body is larger than ${MAX_JSON_BODY_BYTES / 1024} KiB.`),
  UnsupportedMediaType: problem('The body is not `application/json`.'),
  ServiceUnavailable: problem(
    'A dependency (Table Storage, Key Vault, the identity provider) cannot be reached; retry after the given time.',
    { 'Retry-After': headerRef('RetryAfter') },
  ),
  ServerError: problem('An unexpected error; the body says nothing about internals.'),
  ApplianceUnauthorized: problem(
    'Client authentication failed (the body carries `error: "invalid_client"`).',
    { 'WWW-Authenticate': headerRef('BasicChallenge') },
  ),
  PageServerError: {
    description: 'An unexpected error, as a page with a support code; no internals.',
    headers: { 'Cache-Control': headerRef('CacheControlNoStore') },
    content: html,
  },
  PageUnavailable: {
    description:
      'Microsoft Entra ID, Key Vault or Table Storage cannot be reached: a page saying so, nothing recorded.',
    headers: { 'Retry-After': headerRef('RetryAfter'), 'Cache-Control': headerRef('CacheControlNoStore') },
    content: html,
  },
};

const guidSchema: Schema = {
  type: 'string',
  pattern: GUID_PATTERN,
};
const continuationToken: Schema = {
  type: 'string',
  maxLength: CONTINUATION_TOKEN_MAX_LENGTH,
  pattern: CONTINUATION_TOKEN_PATTERN,
};

export const parameters: Record<string, Parameter> = {
  TenantId: {
    name: 'tenantId',
    in: 'path',
    required: true,
    description: 'The customer tenant id (a GUID).',
    schema: guidSchema,
  },
  ClientId: {
    name: 'clientId',
    in: 'path',
    required: true,
    description: "The appliance's broker client id (a GUID).",
    schema: guidSchema,
  },
  OnboardingId: {
    name: 'id',
    in: 'path',
    required: true,
    description: 'The onboarding id (a GUID).',
    schema: guidSchema,
  },
  Top: {
    name: 'top',
    in: 'query',
    description: 'Page size.',
    schema: { type: 'integer', minimum: 1, maximum: PAGE_SIZE.max, default: PAGE_SIZE.default },
  },
  ContinuationToken: {
    name: 'continuationToken',
    in: 'query',
    description: 'From the previous page; only tokens this API issued are accepted.',
    schema: continuationToken,
  },
};

export function securitySchemes(): Record<string, SecurityScheme> {
  return {
    staff: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        "An access token issued by Microsoft Entra ID in the vendor's own tenant (`VENDOR_TENANT_ID`) for the broker's API (`SUPPORT_API_AUDIENCE`, default `api://{HOME_APP_CLIENT_ID}`; v1 tokens carry that App ID URI, v2 tokens the home app's client id, both accepted), holding the app role `Broker.Read` (read) or `Broker.Admin` (changes; includes read). Each operation's requirement names the role. Tokens of another tenant or audience, expired, unsigned or badly signed are refused with 401; a token without the role with 403.",
    },
    clientSecretBasic: {
      type: 'http',
      scheme: 'basic',
      description:
        "client_secret_basic (RFC 6749 §2.3.1): the appliance's broker client id and client secret, form-urlencoded, as HTTP Basic credentials. The token endpoint and `POST /appliance/onboardings` also take client_secret_post or private_key_jwt in the form body instead (see the TokenRequest schema).",
    },
    applianceAssertion: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        'For `GET /appliance/onboardings/{id}` by a private_key_jwt appliance: `Authorization: Bearer <client assertion>`, the same RFC 7523 assertion as at the token endpoint (audience, 5-minute exp, single-use jti).',
    },
  };
}
