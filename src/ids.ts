/** Identifier formats shared across the broker. @module */

/** A GUID as Entra writes tenant, client and object ids (any case). */
export const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The vendor's own customer or site id: 1–128 printable characters, no control or format characters. */
export const CUSTOMER_REF = /^[^\p{Cc}\p{Cf}]{1,128}$/u;
