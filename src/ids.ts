/**
 * Identifier formats shared across the broker, each written once as a JSON Schema `pattern` (ECMA-262, read
 * with the `u` flag: JSON Schema 2020-12 Validation §6.3.3) and compiled here into the RegExp the code tests
 * with. The OpenAPI schemas (src/http/openapi/) carry the same strings, so the document and the code cannot
 * disagree on what they accept.
 * @module
 */

/** A GUID as Entra writes tenant, client and object ids (any case). */
export const GUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';
export const GUID = new RegExp(GUID_PATTERN, 'u');

/** The longest customer reference, in characters (code points). */
export const CUSTOMER_REF_MAX_LENGTH = 128;
/** The vendor's own customer or site id: 1–128 printable characters, no control or format characters. */
export const CUSTOMER_REF_PATTERN = `^[^\\p{Cc}\\p{Cf}]{1,${CUSTOMER_REF_MAX_LENGTH}}$`;
export const CUSTOMER_REF = new RegExp(CUSTOMER_REF_PATTERN, 'u');

/** The longest appliance reference an onboarding may carry (`applianceId`). */
export const APPLIANCE_REF_MAX_LENGTH = 100;
/** An appliance reference of an onboarding: letters, digits, dot, dash, underscore. */
export const APPLIANCE_REF_PATTERN = `^[A-Za-z0-9._-]{1,${APPLIANCE_REF_MAX_LENGTH}}$`;
export const APPLIANCE_REF = new RegExp(APPLIANCE_REF_PATTERN, 'u');

/** A profile name: lower-case letters, digits and dashes, starting with a letter, at most 63 characters. */
export const PROFILE_NAME_PATTERN = '^[a-z][a-z0-9-]{0,62}$';
export const PROFILE_NAME = new RegExp(PROFILE_NAME_PATTERN, 'u');

/** A client secret value as Entra issues it: 8–1024 printable characters, no whitespace (not its id). */
export const CLIENT_SECRET_VALUE_PATTERN = '^[^\\s\\p{Cc}]{8,1024}$';

/** The longest PEM text of a certificate with its private key that `PUT …/app-credential` takes. */
export const CERTIFICATE_PEM_MAX_LENGTH = 64 * 1024;

/** The longest DNS domain name (RFC 1035 §2.3.4: 255 octets on the wire, 253 characters written). */
export const DOMAIN_NAME_MAX_LENGTH = 253;
/** A DNS domain name of letters, digits and hyphens (RFC 1035 §2.3.1), at least two labels. */
export const DOMAIN_NAME_PATTERN = `^(?=.{1,${DOMAIN_NAME_MAX_LENGTH}}$)([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\\.)+[A-Za-z]{2,63}$`;
export const DOMAIN_NAME = new RegExp(DOMAIN_NAME_PATTERN, 'u');

/** The longest continuation token the support API reads back. */
export const CONTINUATION_TOKEN_MAX_LENGTH = 2048;
/** A continuation token as Table Storage's SDK writes them: base64 or base64url. */
export const CONTINUATION_TOKEN_PATTERN = '^[A-Za-z0-9+/=_-]+$';
export const CONTINUATION_TOKEN = new RegExp(CONTINUATION_TOKEN_PATTERN, 'u');

/** Microsoft Graph's application id (FACTS.md §5.1), the same in every cloud. */
export const GRAPH_APP_ID = '00000003-0000-0000-c000-000000000000';
