/**
 * `GET /api/openapi.json` (SPEC.md "Vendor support"): OpenAPI 3.1 for every route of the broker, built from
 * the configuration (the server URL, the vendor's profiles) as the RFC 8414 metadata is (STYLE.md
 * "Configuration"). The parts live in src/http/openapi/; this module assembles and serves them.
 * @module
 */
import type { Profiles } from '../profiles/profiles.js';
import { headers, parameters, responses, securitySchemes } from './openapi/components.js';
import { paths } from './openapi/paths.js';
import { componentSchemas } from './openapi/schemas.js';
import type { OpenApiDocument } from './openapi/types.js';
import type { HttpReply } from './types.js';

export type { OpenApiDocument } from './openapi/types.js';

export interface OpenApiOptions {
  /** `BROKER_PUBLIC_URL`: the one server; routes are served at its root. */
  readonly publicUrl: string;
  /** The vendor's profiles: profile names become an enum and resource scopes token-request examples. */
  readonly profiles?: Pick<Profiles, 'profiles' | 'resources'>;
  /** `BROKER_VENDOR_NAME`, named in the title. */
  readonly vendorName?: string;
}

/** The version of the HTTP contract (SPEC.md), not of the package: raise it when the wire changes. */
const API_VERSION = '1.0.0';

export function openApiDocument(options: OpenApiOptions): OpenApiDocument {
  const profileNames = options.profiles ? [...options.profiles.profiles.keys()] : undefined;
  const scopes = options.profiles
    ? [...new Set([...options.profiles.resources.values()].map((r) => r.scope))]
    : undefined;
  return {
    openapi: '3.1.1',
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    info: {
      title: options.vendorName ? `Consent Broker (${options.vendorName})` : 'Consent Broker',
      version: API_VERSION,
      summary: 'Microsoft 365 admin consent, token vending and support for PBX appliances.',
      description:
        'Customers consent in a browser (`/connect/…`, `/consent/…`: HTML pages). Appliances get Microsoft access tokens for their bound tenant from an RFC 6749 token endpoint, whose errors follow RFC 6749 §5.2. Vendor support uses the JSON API under `/api/` with an Entra ID bearer token; its errors are RFC 9457 `application/problem+json`. Every route is served at the root of the server URL.',
    },
    servers: [{ url: options.publicUrl, description: 'BROKER_PUBLIC_URL' }],
    tags: [
      { name: 'customers', description: "The customer admin's browser: consent pages and redirects." },
      {
        name: 'appliances',
        description: 'PBX appliances: token endpoint, metadata, the "Authorize" button.',
      },
      {
        name: 'support',
        description:
          "Vendor support: a bearer token from the vendor's tenant with Broker.Read or Broker.Admin.",
      },
      {
        name: 'console',
        description:
          'The support console: HTML pages for vendor staff, who sign in with Entra ID (Broker.Read or Broker.Admin).',
      },
      { name: 'operations', description: 'Anonymous: health and this document.' },
    ],
    paths: paths(),
    components: {
      schemas: componentSchemas({
        ...(profileNames ? { profileNames } : {}),
        ...(scopes ? { scopes } : {}),
      }),
      responses,
      parameters,
      headers,
      securitySchemes: securitySchemes(),
    },
  };
}

let cached: { key: readonly unknown[]; body: string } | undefined;

/** The document as JSON; built once per configuration (it never changes while the process runs). */
export function openApiReply(options: OpenApiOptions): HttpReply {
  const key = [options.publicUrl, options.profiles, options.vendorName];
  if (!cached || cached.key.some((v, i) => v !== key[i])) {
    cached = { key, body: JSON.stringify(openApiDocument(options)) };
  }
  return {
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'public, max-age=300' },
    body: cached.body,
  };
}
