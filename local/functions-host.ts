/**
 * A small stand-in for the Azure Functions host: it serves the very registrations that `functions/` makes
 * with `app.http` / `app.timer` / `app.hook.appStart`, because the Core Tools binary cannot be had here. A
 * development tool, not a place for speed: it builds for each request what the Node worker builds (the
 * library's `HttpRequest`, `InvocationContext` and `HttpResponse`), and the broker's own cost is measured
 * behind a plain `node:http` server instead (bench/direct-host.ts, `npm run bench -- --direct`).
 *
 * - ./functions-host/core-module.ts: the `@azure/functions-core` module the library registers through, and
 *   calling a function with the `preInvocation` hooks;
 * - ./functions-host/routes.ts: route templates and the choice of a function for a request;
 * - ./functions-host/server.ts: the HTTP server (body limit, replies, unhandled errors);
 * - ./functions-host/request.ts: the request and invocation context a handler gets;
 * - ./functions-host/timers.ts: timers on their NCRONTAB schedules.
 * @module
 */
export {
  installCoreModule,
  type HttpFunction,
  type Registry,
  type TimerFunction,
} from './functions-host/core-module.js';
export { compileRoute, findRoute, type CompiledRoute } from './functions-host/routes.js';
export { httpRequest, invocationContext, requestHeaders, requestUrl } from './functions-host/request.js';
export { startFunctionsHost, type HostOptions, type RunningHost } from './functions-host/server.js';
