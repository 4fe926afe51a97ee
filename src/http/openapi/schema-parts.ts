/**
 * Building blocks of the OpenAPI schemas (schemas.ts, request-schemas.ts): references, nullable forms, and
 * the formats of src/ids.ts as JSON Schema.
 * @module
 */
import {
  CUSTOMER_REF_MAX_LENGTH,
  CUSTOMER_REF_PATTERN,
  GUID_PATTERN,
  PROFILE_NAME_PATTERN,
} from '../../ids.js';
import type { Schema } from './types.js';

/** `#/components/schemas/{name}` */
export const ref = (name: string): Schema => ({ $ref: `#/components/schemas/${name}` });

/** `schema`, or null (JSON Schema 2020-12 has no `nullable`). */
export const orNull = (schema: Schema): Schema =>
  schema.$ref !== undefined ? { anyOf: [schema, { type: 'null' }] } : withNull(schema);

function withNull(schema: Schema): Schema {
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  if (types.length === 0) return { anyOf: [schema, { type: 'null' }] };
  return {
    ...schema,
    type: [...types, 'null'],
    ...(schema.enum ? { enum: [...schema.enum, null] } : {}),
  };
}

export const guid: Schema = {
  type: 'string',
  format: 'uuid',
  pattern: GUID_PATTERN,
};
export const dateTime: Schema = { type: 'string', format: 'date-time' };
export const strings: Schema = { type: 'array', items: { type: 'string' } };
export const customerRef: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: CUSTOMER_REF_MAX_LENGTH,
  pattern: CUSTOMER_REF_PATTERN,
  description: `The vendor's own customer or site id: 1 to ${CUSTOMER_REF_MAX_LENGTH} printable characters (no control or format characters); leading and trailing white space is dropped.`,
};

/** A profile name: one of `names` when the broker's profiles are known, else the format of src/ids.ts. */
export const profileName = (names?: readonly string[]): Schema =>
  names?.length ? { type: 'string', enum: [...names] } : { type: 'string', pattern: PROFILE_NAME_PATTERN };

/** A non-empty list of distinct profile names. */
export const profileList = (names?: readonly string[]): Schema => ({
  type: 'array',
  minItems: 1,
  uniqueItems: true,
  items: profileName(names),
});
