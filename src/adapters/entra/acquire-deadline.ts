/**
 * The deadline of one `acquireAppToken` (msal.ts): all its HTTP requests to Entra together (authority
 * metadata, then the token) settle within it, each request being given only the time left (msal-network.ts
 * `EntraNetwork`).
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * SPEC.md "Guarantees": a cold token request gets 503 + Retry-After strictly within 5 s. This leaves 1 s of that for
 * what the endpoint does around the Entra request (client authentication, the tenant, the answer) on a busy
 * instance. Entra answers a token request in well under a second when it is well.
 */
export const APP_TOKEN_DEADLINE_MS = 4_000;
/**
 * The deadline (a `performance.now()` time) of the `acquireAppToken` under way, seen by `EntraNetwork` in the
 * requests MSAL sends on its behalf: MSAL's network interface carries no per-call options.
 */
export const acquireDeadline = new AsyncLocalStorage<number>();
