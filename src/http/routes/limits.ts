/**
 * The numeric limits of the support API's requests, written once: the handlers (src/http/*-api.ts,
 * json-body.ts) enforce them and the OpenAPI document (src/http/openapi/) states them.
 * @module
 */

/** `top` of `GET /api/tenants` and `GET /api/appliances`. */
export const PAGE_SIZE = { default: 50, max: 100 } as const;
/** `top` of `GET /api/audit`. */
export const AUDIT_PAGE_SIZE = { default: 100, max: 1000 } as const;
/** The largest JSON request body read (src/http/json-body.ts). */
export const MAX_JSON_BODY_BYTES = 64 * 1024;
