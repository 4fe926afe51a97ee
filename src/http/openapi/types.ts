/**
 * The part of OpenAPI 3.1 (https://spec.openapis.org/oas/v3.1.1) that the broker's document uses, typed so
 * that a misspelt field is a compile error rather than a document the validator refuses. Schema objects are
 * JSON Schema 2020-12 (OAS 3.1 §4.8.24), limited to the keywords used here.
 * @module
 */

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'object' | 'array' | 'null';

/** A JSON Schema 2020-12 schema (OAS 3.1 §4.8.24: the Schema Object is a superset of it). */
export interface Schema {
  readonly $ref?: string;
  readonly title?: string;
  readonly description?: string;
  readonly type?: JsonType | readonly JsonType[];
  readonly format?: string;
  readonly enum?: readonly (string | number | null)[];
  readonly const?: string | number | boolean | null;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly uniqueItems?: boolean;
  readonly items?: Schema;
  readonly properties?: Readonly<Record<string, Schema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | Schema;
  readonly propertyNames?: Schema;
  readonly minProperties?: number;
  readonly allOf?: readonly Schema[];
  readonly anyOf?: readonly Schema[];
  readonly oneOf?: readonly Schema[];
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly readOnly?: boolean;
  readonly writeOnly?: boolean;
  readonly deprecated?: boolean;
}

/** OAS 3.1 §4.8.23 Reference Object. */
export interface Reference {
  readonly $ref: string;
  readonly summary?: string;
  readonly description?: string;
}

/** OAS 3.1 §4.8.21 Header Object. */
export interface Header {
  readonly description?: string;
  readonly required?: boolean;
  readonly schema: Schema;
}

/** OAS 3.1 §4.8.12 Parameter Object (schema form). */
export interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly description?: string;
  readonly required?: boolean;
  readonly deprecated?: boolean;
  readonly style?: 'form' | 'simple';
  readonly explode?: boolean;
  readonly schema: Schema;
  readonly examples?: Readonly<Record<string, Example>>;
}

/** OAS 3.1 §4.8.19 Example Object. */
export interface Example {
  readonly summary?: string;
  readonly description?: string;
  readonly value?: unknown;
}

/** OAS 3.1 §4.8.15 Encoding Object (for form bodies). */
export interface Encoding {
  readonly contentType?: string;
  readonly style?: 'form';
  readonly explode?: boolean;
}

/** OAS 3.1 §4.8.14 Media Type Object. */
export interface MediaType {
  readonly schema?: Schema;
  readonly examples?: Readonly<Record<string, Example>>;
  readonly encoding?: Readonly<Record<string, Encoding>>;
}

/** OAS 3.1 §4.8.13 Request Body Object. */
export interface RequestBody {
  readonly description?: string;
  readonly required?: boolean;
  readonly content: Readonly<Record<string, MediaType>>;
}

/** OAS 3.1 §4.8.17 Response Object. */
export interface Response {
  readonly description: string;
  readonly headers?: Readonly<Record<string, Header | Reference>>;
  readonly content?: Readonly<Record<string, MediaType>>;
}

/** OAS 3.1 §4.8.28 Security Requirement Object: scheme name → scopes, or role names for other schemes. */
export type SecurityRequirement = Readonly<Record<string, readonly string[]>>;

/** OAS 3.1 §4.8.10 Operation Object. */
export interface Operation {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly parameters?: readonly (Parameter | Reference)[];
  readonly requestBody?: RequestBody | Reference;
  readonly responses: Readonly<Record<string, Response | Reference>>;
  readonly security?: readonly SecurityRequirement[];
  readonly deprecated?: boolean;
}

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'patch' | 'head' | 'options';

/** OAS 3.1 §4.8.9 Path Item Object. */
export type PathItem = Partial<Readonly<Record<HttpMethod, Operation>>> & {
  readonly parameters?: readonly (Parameter | Reference)[];
};

/** OAS 3.1 §4.8.27 Security Scheme Object (the kinds used here). */
export type SecurityScheme =
  | {
      readonly type: 'http';
      readonly scheme: 'basic' | 'bearer';
      readonly bearerFormat?: string;
      readonly description?: string;
    }
  | {
      readonly type: 'oauth2';
      readonly description?: string;
      readonly flows: {
        readonly clientCredentials?: {
          readonly tokenUrl: string;
          readonly scopes: Readonly<Record<string, string>>;
        };
      };
    };

/** OAS 3.1 §4.8.7 Components Object (the sections used here). */
export interface Components {
  readonly schemas: Readonly<Record<string, Schema>>;
  readonly responses: Readonly<Record<string, Response>>;
  readonly parameters: Readonly<Record<string, Parameter>>;
  readonly headers: Readonly<Record<string, Header>>;
  readonly securitySchemes: Readonly<Record<string, SecurityScheme>>;
}

export interface Tag {
  readonly name: string;
  readonly description?: string;
}

/** OAS 3.1 §4.8.1 OpenAPI Object. */
export interface OpenApiDocument {
  readonly openapi: '3.1.1';
  readonly jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base';
  readonly info: {
    readonly title: string;
    readonly version: string;
    readonly summary?: string;
    readonly description?: string;
    readonly license?: { readonly name: string; readonly identifier?: string };
  };
  readonly servers: readonly { readonly url: string; readonly description?: string }[];
  readonly tags: readonly Tag[];
  readonly paths: Readonly<Record<string, PathItem>>;
  readonly components: Components;
}
