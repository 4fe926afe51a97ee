/**
 * Builders for the answers and parameters that the route declarations (src/http/routes/*.ts) share: JSON
 * answers with `Cache-Control: no-store`, the problem+json answers of the support and appliance routes, the
 * pages and redirects of the consent flow, and the RFC 6749 §5.2 errors of the token endpoint.
 * @module
 */
import { headerRef, html, json, problemJson, responseRef } from './components.js';
import { ref } from './schemas.js';
import type { Parameter, Reference, Response } from './types.js';

export const noStore = { 'Cache-Control': headerRef('CacheControlNoStore') };

/** A 2xx JSON answer of the component schema `schemaName`, never cached. */
export const ok = (
  description: string,
  schemaName: string,
  headers: Readonly<Record<string, Reference>> = {},
): Response => ({
  description,
  headers: { ...noStore, ...headers },
  content: json(ref(schemaName)),
});

/** Answers every support route can give, besides its own. */
export const supportErrors = (extra: Readonly<Record<string, Response | Reference>> = {}) => ({
  '400': responseRef('BadRequest'),
  '401': responseRef('Unauthorized'),
  '403': responseRef('Forbidden'),
  ...extra,
  '500': responseRef('ServerError'),
  '503': responseRef('ServiceUnavailable'),
});

/** What src/http/json-body.ts refuses before a body is read. */
export const jsonBodyErrors = {
  '413': responseRef('ContentTooLarge'),
  '415': responseRef('UnsupportedMediaType'),
};

export const queryParam = (name: string, description: string, schema: Parameter['schema']): Parameter => ({
  name,
  in: 'query',
  description,
  schema,
});

// ------------------------------------------------------------------------------------------- customers

/** A page of the consent flow (src/http/pages/document.ts sets these headers). */
export const page = (description: string): Response => ({
  description,
  headers: {
    'Cache-Control': headerRef('CacheControlNoStore'),
    'Content-Security-Policy': headerRef('ContentSecurityPolicy'),
    'Referrer-Policy': headerRef('ReferrerPolicy'),
  },
  content: html,
});

export const redirect = (description: string): Response => ({
  description,
  headers: {
    Location: {
      description: 'Where the browser goes next.',
      required: true,
      schema: { type: 'string', format: 'uri' },
    },
    'Cache-Control': headerRef('CacheControlNoStore'),
    'Referrer-Policy': headerRef('ReferrerPolicy'),
  },
});

export const linkErrors = {
  '404': page('Unknown consent link.'),
  '410': page('The consent link has expired, or was already used.'),
  '500': responseRef('PageServerError'),
  '503': responseRef('PageUnavailable'),
};

export const stateErrors = {
  '400': page(
    'Bad or unknown `state`, a state that timed out (`BROKER_STATE_TTL_S`), malformed or repeated parameters, or Microsoft answered with an error (its AADSTS code shown for support). Nothing is recorded.',
  ),
  '409': page('This `state` was already used: the response counts only once.'),
  '500': responseRef('PageServerError'),
  '503': responseRef('PageUnavailable'),
};

export const entraErrorParams: readonly Parameter[] = [
  queryParam('error', 'Set by Microsoft instead of a result.', { type: 'string' }),
  queryParam('error_description', 'Carries the AADSTS code.', { type: 'string' }),
  queryParam('error_subcode', 'From Microsoft.', { type: 'string' }),
  queryParam('error_uri', 'From Microsoft.', { type: 'string' }),
];

// ------------------------------------------------------------------------------------------ appliances

export const tokenHeaders = {
  'Cache-Control': headerRef('CacheControlNoStore'),
  Pragma: headerRef('Pragma'),
};

/** An RFC 6749 §5.2 error of the token endpoint. */
export const oauthError = (
  description: string,
  extra: Readonly<Record<string, Reference>> = {},
): Response => ({
  description,
  headers: { ...tokenHeaders, ...extra },
  content: json(ref('OAuthError')),
});

/** The problem+json answers of the appliance routes (src/http/appliance-onboardings.ts). */
export const applianceProblems = {
  '400': {
    description: 'Bad request or client authentication input (the body carries the OAuth `error` code).',
    headers: noStore,
    content: problemJson,
  },
  '401': responseRef('ApplianceUnauthorized'),
  '500': responseRef('ServerError'),
  '503': responseRef('ServiceUnavailable'),
};
