/**
 * A small stand-in for the Azure Functions host: it serves the very registrations that `functions/` makes
 * with `app.http` / `app.timer` / `app.hook.appStart`, because the Core Tools binary cannot be had here.
 *
 * How it attaches: the real Node worker provides the virtual module `@azure/functions-core`, through which
 * `@azure/functions` registers each function (`registerFunction(metadata, handler)`) and hook
 * (`registerHook`) — see `@azure/functions` src/app.ts and src/utils/tryGetCoreApiLazy.ts. This host
 * provides that module the same way the worker does (by answering `require('@azure/functions-core')`)
 * before the app's modules load, then routes HTTP requests to the handlers with a request and a context
 * that have the members of the library's `HttpRequest` and `InvocationContext` (built lazily: the token
 * endpoint's warm path pays for nothing it does not read), and runs timers on their NCRONTAB schedules.
 * @module
 */
import { randomUUID } from 'node:crypto';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import Module, { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { InvocationContext } from '@azure/functions';
import { CronExpressionParser } from 'cron-parser';

interface Binding {
  readonly type: string;
  readonly direction: string;
  readonly route?: string;
  readonly methods?: readonly string[];
  readonly schedule?: string;
  readonly runOnStartup?: boolean;
}

interface FunctionMetadata {
  readonly name: string;
  readonly bindings: Record<string, Binding>;
}

type Callback = (...args: unknown[]) => unknown;

export interface HttpFunction {
  readonly name: string;
  readonly route: string;
  readonly methods: readonly string[];
  readonly handler: Callback;
  /** Matches a path already split by `pathSegments`, so that a request's path is split once, not per route. */
  readonly matchSegments: (segments: readonly string[]) => Record<string, string> | undefined;
  readonly literalSegments: number;
}

export interface TimerFunction {
  readonly name: string;
  readonly schedule: string;
  readonly runOnStartup: boolean;
  readonly handler: Callback;
}

export interface Registry {
  readonly http: HttpFunction[];
  readonly timers: TimerFunction[];
  readonly hooks: Map<string, Callback[]>;
}

/** Installs the `@azure/functions-core` module; returns what the app registers through it. */
export function installCoreModule(): Registry {
  const registry: Registry = { http: [], timers: [], hooks: new Map() };
  const core = {
    version: 'local-host',
    hostVersion: '4.x (local host)',
    setProgrammingModel: () => undefined,
    getProgrammingModel: () => undefined,
    registerHook: (name: string, callback: Callback) => {
      const list = registry.hooks.get(name) ?? [];
      list.push(callback);
      registry.hooks.set(name, list);
      return { dispose: () => list.splice(list.indexOf(callback), 1) };
    },
    registerFunction: (metadata: FunctionMetadata, handler: Callback) => {
      const trigger = Object.values(metadata.bindings).find(
        (b) => b.direction === 'in' && b.type.endsWith('Trigger'),
      );
      if (trigger?.type === 'httpTrigger') {
        const route = trigger.route ?? metadata.name;
        const { matchSegments, literalSegments } = compileRoute(route);
        registry.http.push({
          name: metadata.name,
          route,
          methods: (trigger.methods ?? ['GET', 'POST']).map((m) => m.toUpperCase()),
          handler,
          matchSegments,
          literalSegments,
        });
        // Azure Functions route precedence: routes with more literal segments win over parameters.
        registry.http.sort((a, b) => b.literalSegments - a.literalSegments);
      } else if (trigger?.type === 'timerTrigger' && trigger.schedule) {
        registry.timers.push({
          name: metadata.name,
          schedule: trigger.schedule,
          runOnStartup: trigger.runOnStartup ?? false,
          handler,
        });
      } else {
        throw new Error(
          `local host: function "${metadata.name}" has a trigger this host does not serve (${trigger?.type ?? 'none'})`,
        );
      }
      return { dispose: () => undefined };
    },
  };
  type Require = (this: unknown, id: string) => unknown;
  const proto = (Module as unknown as { prototype: { require: Require } }).prototype;
  const original = proto.require;
  proto.require = function (this: unknown, id: string) {
    return id === '@azure/functions-core' ? core : original.call(this, id);
  };
  return registry;
}

/**
 * Compiles an Azure Functions route template: `{name}`, `{name:constraint}`, `{name?}` (last segment) and
 * `{*name}` (catch-all). Literal segments compare case-insensitively, as ASP.NET routing does.
 */
export function compileRoute(template: string): {
  match: (path: string) => Record<string, string> | undefined;
  matchSegments: (segments: readonly string[]) => Record<string, string> | undefined;
  literalSegments: number;
} {
  // Compiled once: a literal (lower-cased) or a parameter per segment.
  const parts = template
    .replace(/^\/+|\/+$/g, '')
    .split('/')
    .map((part) => {
      const param = /^\{(\*)?([A-Za-z0-9_]+)(?::[^}?]+)?(\?)?\}$/.exec(part);
      return param
        ? { literal: undefined, name: param[2]!, catchAll: Boolean(param[1]), optional: Boolean(param[3]) }
        : { literal: part.toLowerCase(), name: '', catchAll: false, optional: false };
    });
  const literalSegments = parts.filter((p) => p.literal !== undefined).length;
  const hasCatchAll = parts.some((p) => p.catchAll);
  const matchSegments = (segs: readonly string[]): Record<string, string> | undefined => {
    if (segs.length > parts.length && !hasCatchAll) return undefined;
    // Literals first, without allocating: most routes tried for a request fail on their first segment.
    for (let i = 0; i < parts.length; i++) {
      const literal = parts[i]!.literal;
      if (literal === undefined) continue;
      const seg = segs[i];
      if (seg === undefined || (seg !== literal && literal !== seg.toLowerCase())) return undefined;
    }
    const params: Record<string, string> = {};
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      const seg = segs[i];
      if (part.literal !== undefined) continue; // checked above
      if (part.catchAll) {
        params[part.name] = segs.slice(i).map(safeDecode).join('/');
        return params;
      }
      if (seg === undefined || seg === '') {
        if (part.optional) continue;
        return undefined;
      }
      const decoded = safeDecode(seg);
      if (decoded === undefined) return undefined;
      params[part.name] = decoded;
    }
    return segs.length <= parts.length ? params : undefined;
  };
  return { match: (path) => matchSegments(pathSegments(path)), matchSegments, literalSegments };
}

/** A path's segments for route matching: without leading and trailing slashes, split at each other one. */
export function pathSegments(path: string): string[] {
  let from = 0;
  let to = path.length;
  while (from < to && path.charCodeAt(from) === 0x2f) from++;
  while (to > from && path.charCodeAt(to - 1) === 0x2f) to--;
  return path.slice(from, to).split('/');
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

export interface HostOptions {
  readonly port: number;
  readonly host?: string;
  readonly registry: Registry;
  readonly log?: (line: string) => void;
}

export interface RunningHost {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 1024 * 1024;

/**
 * The path of a request target, for routing. The common case (an origin-form target of plain characters)
 * is cut at the query without building a URL; anything else (dot segments, an absolute-form target, odd
 * characters) goes through the WHATWG URL parser, which normalizes it as the platform's front end does.
 */
export function routePath(target: string): string {
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  // No dot segment, percent sign or character the URL parser would escape or rewrite: the path as sent.
  if (/^\/[\w\-~!$&'()*+,;=:@/.]*$/.test(path) && !path.includes('/.') && !path.includes('//')) return path;
  try {
    return new URL(target, 'http://localhost').pathname;
  } catch {
    return path;
  }
}

interface RouteHit {
  readonly f: HttpFunction;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Which function serves a method and request target. Requests repeat a few targets (every PBX posts to
 * `/oauth2/token`), so the answers for targets that matched are kept — at most 1,000, emptied when full, so
 * that made-up paths cost a match each and no memory — with their parameters frozen, as they are shared.
 */
class RouteTable {
  private readonly known = new Map<string, RouteHit>();
  constructor(private readonly functions: readonly HttpFunction[]) {}

  match(method: string, target: string): RouteHit | undefined {
    const key = `${method} ${target}`;
    const known = this.known.get(key);
    if (known !== undefined) return known;
    const segments = pathSegments(routePath(target));
    for (const f of this.functions) {
      if (!f.methods.includes(method)) continue;
      const params = f.matchSegments(segments);
      if (!params) continue;
      const hit = { f, params: Object.freeze(params) };
      if (this.known.size >= 1000) this.known.clear();
      this.known.set(key, hit);
      return hit;
    }
    return undefined;
  }
}

/** The request body, read without an async iterator; 'too large' past the host's limit. */
function readBody(req: IncomingMessage): Promise<Buffer | undefined | 'too large'> {
  return new Promise((resolve, reject) => {
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        req.off('data', onData);
        resolve('too large');
        return;
      }
      if (!first) first = chunk;
      else (chunks ??= [first]).push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks ? Buffer.concat(chunks) : first));
    req.once('error', reject);
  });
}

/** Runs the appStart hooks, then serves the HTTP functions and schedules the timers. */
export async function startFunctionsHost(options: HostOptions): Promise<RunningHost> {
  // The library is a CommonJS bundle whose classes Node's ESM named-export detection does not see.
  const { HttpResponse } = createRequire(import.meta.url)(
    '@azure/functions',
  ) as typeof import('@azure/functions');
  const log = options.log ?? ((line: string) => console.log(line));
  for (const hook of options.registry.hooks.get('appStart') ?? []) {
    await hook({ hookData: {}, functionAppDirectory: process.cwd() });
  }

  const contextFor = (functionName: string) => new LocalInvocationContext(functionName, log);
  const routes = new RouteTable(options.registry.http);

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const target = req.url ?? '/';
    const method = (req.method ?? 'GET').toUpperCase();
    const hit = routes.match(method, target);
    if (!hit) {
      // The Functions host answers 404 with an empty body both for an unknown route and for a method the
      // route was not registered with.
      res.writeHead(404).end();
      return;
    }
    const bytes = await readBody(req);
    if (bytes === 'too large') {
      res.writeHead(413, { 'content-type': 'text/plain' }).end('Request body too large');
      req.destroy();
      return;
    }
    const request = new LocalHttpRequest(
      method,
      `http://${req.headers.host ?? 'localhost'}${target}`,
      // As the platform's front end does: the caller's address appended to X-Forwarded-For.
      new LocalHeaders(req.headers, req.socket.remoteAddress ?? 'unknown'),
      hit.params,
      bytes,
    );
    const context = contextFor(hit.f.name);
    try {
      const result = (await invoke(options.registry, hit.f.handler, [request, context], context)) ?? {
        status: 204,
      };
      if (!(result instanceof HttpResponse) && writePlainReply(res, result)) return;
      const response =
        result instanceof HttpResponse
          ? result
          : new HttpResponse(result as ConstructorParameters<typeof HttpResponse>[0]);
      const out: Record<string, string | string[]> = {};
      response.headers.forEach((value, key) => {
        out[key] = value;
      });
      const cookies = response.headers.getSetCookie();
      if (cookies.length) out['set-cookie'] = cookies;
      const body = Buffer.from(await response.arrayBuffer());
      res.writeHead(response.status, out).end(body);
    } catch (err) {
      // As the Functions host does: an unhandled error is a bare 500, details only in the log.
      context.error(`unhandled error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    }
  }

  const server: Server = createServer((req, res) => {
    serve(req, res).catch((err: unknown) => {
      log(
        `[host] ${req.method} ${req.url}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`PORT ${options.port} is already in use: stop the other process or set PORT`)
          : err,
      ),
    );
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });

  const timers = options.registry.timers.map((t) => scheduleTimer(options.registry, t, contextFor, log));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    port,
    close: async () => {
      for (const stop of timers) stop();
      for (const hook of options.registry.hooks.get('appTerminate') ?? []) {
        await Promise.resolve(hook({ hookData: {} })).catch((err: unknown) =>
          log(`[host] appTerminate hook failed: ${String(err)}`),
        );
      }
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** NCRONTAB (six fields, seconds first) as the Functions timer trigger uses; runs are never concurrent. */
/**
 * Calls a function as the worker does: `preInvocation` hooks first, which may replace the handler
 * (`functionCallback`) or its inputs, then the handler with the inputs.
 */
function invoke(
  registry: Registry,
  handler: Callback,
  inputs: unknown[],
  invocationContext: unknown,
): unknown {
  const hooks = registry.hooks.get('preInvocation');
  // Without hooks, the handler's own result as it is (a promise is not wrapped in another one).
  if (!hooks?.length) return handler(...inputs);
  return (async () => {
    const core = { hookData: {}, invocationContext, inputs, functionCallback: handler };
    for (const hook of hooks) await hook(core);
    return core.functionCallback(...core.inputs);
  })();
}

function scheduleTimer(
  registry: Registry,
  timer: TimerFunction,
  contextFor: (name: string) => { error: (...args: unknown[]) => void },
  log: (line: string) => void,
): () => void {
  const expression = CronExpressionParser.parse(timer.schedule, { tz: 'UTC' });
  let handle: NodeJS.Timeout | undefined;
  let stopped = false;
  let last = new Date();
  const run = async (isPastDue: boolean) => {
    const context = contextFor(timer.name);
    try {
      const schedule = { last: last.toISOString(), next: '', lastUpdated: new Date().toISOString() };
      await invoke(registry, timer.handler, [{ isPastDue, scheduleStatus: schedule }, context], context);
    } catch (err) {
      context.error(`timer failed: ${err instanceof Error ? err.message : String(err)}`);
    }
    last = new Date();
  };
  const next = () => {
    if (stopped) return;
    const at = expression.next().getTime();
    handle = setTimeout(() => void run(Date.now() - at > 1_000).then(next), Math.max(0, at - Date.now()));
    handle.unref();
  };
  log(`timer ${timer.name}: ${timer.schedule}`);
  if (timer.runOnStartup) void run(false).then(next);
  else next();
  return () => {
    stopped = true;
    if (handle) clearTimeout(handle);
  };
}

/**
 * The handler's answer written as the Functions host writes an `HttpResponseInit` — status (default 200),
 * headers, and a string or bytes body — without building a web `Response` for it. Anything richer (jsonBody,
 * cookies, streams, an HttpResponse) goes through the library's own HttpResponse instead. False when it did not
 * apply.
 */
function writePlainReply(res: ServerResponse, result: unknown): boolean {
  if (typeof result !== 'object' || result === null) return false;
  const r = result as {
    status?: unknown;
    headers?: unknown;
    body?: unknown;
    jsonBody?: unknown;
    cookies?: unknown;
  };
  if (r.jsonBody !== undefined || r.cookies !== undefined) return false;
  if (
    r.headers !== undefined &&
    (typeof r.headers !== 'object' || r.headers === null || r.headers instanceof Headers)
  )
    return false;
  const body = r.body;
  if (body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array)) return false;
  const given = r.headers as Record<string, unknown> | undefined;
  // A frozen headers object (a handler's constant) cannot change: normalize it once.
  let headers = given !== undefined && Object.isFrozen(given) ? normalizedFrozen.get(given) : undefined;
  if (headers === undefined) {
    headers = {};
    for (const [k, v] of Object.entries(given ?? {})) headers[k.toLowerCase()] = String(v);
    if (given !== undefined && Object.isFrozen(given)) normalizedFrozen.set(given, headers);
  }
  // The library's HttpResponse labels a string body text/plain when the handler did not say.
  if (typeof body === 'string' && headers['content-type'] === undefined)
    headers = { ...headers, 'content-type': 'text/plain;charset=UTF-8' };
  res.writeHead(typeof r.status === 'number' ? r.status : 200, headers).end(body);
  return true;
}

const normalizedFrozen = new WeakMap<object, Record<string, string>>();

/**
 * The `context` a handler gets, with the members of @azure/functions' `InvocationContext` (a fresh
 * invocation id, the function's name, log methods by level, extra inputs and outputs, options): built per
 * invocation as a plain object rather than through the library's constructor, which allocates its extra
 * inputs, outputs and options for every request whether the handler uses them or not.
 */
export class LocalInvocationContext implements InvocationContext {
  #invocationId: string | undefined;
  retryContext?: InvocationContext['retryContext'];
  traceContext?: InvocationContext['traceContext'];
  triggerMetadata?: InvocationContext['triggerMetadata'];
  #extraInputs: InvocationContext['extraInputs'] | undefined;
  #extraOutputs: InvocationContext['extraOutputs'] | undefined;

  constructor(
    readonly functionName: string,
    private readonly write: (line: string) => void,
  ) {}

  /** A fresh id per invocation, made when first read (most token requests never read it). */
  get invocationId(): string {
    this.#invocationId ??= randomUUID();
    return this.#invocationId;
  }

  get options(): InvocationContext['options'] {
    return { trigger: { name: 'unknown', type: 'unknown' }, extraInputs: [], extraOutputs: [] };
  }

  get extraInputs(): InvocationContext['extraInputs'] {
    this.#extraInputs ??= keyedValues();
    return this.#extraInputs;
  }

  get extraOutputs(): InvocationContext['extraOutputs'] {
    this.#extraOutputs ??= keyedValues();
    return this.#extraOutputs;
  }

  log(...args: unknown[]): void {
    this.emit('information', args);
  }

  trace(...args: unknown[]): void {
    this.emit('trace', args);
  }

  debug(...args: unknown[]): void {
    this.emit('debug', args);
  }

  info(...args: unknown[]): void {
    this.emit('information', args);
  }

  warn(...args: unknown[]): void {
    this.emit('warning', args);
  }

  error(...args: unknown[]): void {
    this.emit('error', args);
  }

  private emit(level: string, args: unknown[]): void {
    this.write(`[${this.functionName}] ${level}: ${args.map(String).join(' ')}`);
  }
}

/** Extra inputs or outputs by binding name, as the library keeps them. */
function keyedValues(): InvocationContext['extraInputs'] & InvocationContext['extraOutputs'] {
  const values = new Map<string, unknown>();
  const nameOf = (binding: string | { name: string }) =>
    typeof binding === 'string' ? binding : binding.name;
  return {
    get: (binding: string | { name: string }) => values.get(nameOf(binding)),
    set: (binding: string | { name: string }, value: unknown) => void values.set(nameOf(binding), value),
  } as InvocationContext['extraInputs'] & InvocationContext['extraOutputs'];
}

/**
 * The headers of a request as a web `Headers`, read straight from Node's parsed headers: `get` and `has` (all
 * the broker's handlers use) look up the lower-cased name; any other member builds a real `Headers` once and
 * answers from it. Node has already joined repeated headers with ", " (and kept the first of those it does
 * not join, such as Authorization), as the current host did when it built a `Headers` per request.
 * X-Forwarded-For gets the caller's address appended, as the platform's front end does.
 */
export class LocalHeaders implements Headers {
  #real: Headers | undefined;

  constructor(
    private readonly raw: IncomingHttpHeaders,
    private readonly remoteAddress: string,
  ) {}

  get(name: string): string | null {
    if (this.#real) return this.#real.get(name);
    const key = name.toLowerCase();
    if (key === 'x-forwarded-for') return this.forwardedFor();
    const value = this.raw[key];
    if (value === undefined) return null;
    return Array.isArray(value) ? value.join(', ') : value;
  }

  has(name: string): boolean {
    return this.get(name) !== null;
  }

  getSetCookie(): string[] {
    return this.real().getSetCookie();
  }

  append(name: string, value: string): void {
    this.real().append(name, value);
  }

  set(name: string, value: string): void {
    this.real().set(name, value);
  }

  delete(name: string): void {
    this.real().delete(name);
  }

  forEach(callback: (value: string, key: string, parent: Headers) => void, thisArg?: unknown): void {
    this.real().forEach((value, key) => callback.call(thisArg, value, key, this));
  }

  entries(): ReturnType<Headers['entries']> {
    return this.real().entries();
  }

  keys(): ReturnType<Headers['keys']> {
    return this.real().keys();
  }

  values(): ReturnType<Headers['keys']> {
    return this.real().values();
  }

  [Symbol.iterator](): ReturnType<Headers['entries']> {
    return this.real()[Symbol.iterator]();
  }

  private forwardedFor(): string {
    const sent = this.raw['x-forwarded-for'];
    const prior = Array.isArray(sent) ? sent.join(', ') : sent;
    return prior ? `${prior}, ${this.remoteAddress}` : this.remoteAddress;
  }

  private real(): Headers {
    if (!this.#real) {
      const headers = new Headers();
      for (const [k, v] of Object.entries(this.raw)) {
        if (v === undefined || k === 'x-forwarded-for') continue;
        if (Array.isArray(v)) for (const one of v) headers.append(k, one);
        else headers.append(k, v);
      }
      headers.set('x-forwarded-for', this.forwardedFor());
      this.#real = headers;
    }
    return this.#real;
  }
}

/**
 * The request a handler gets: the members of @azure/functions' `HttpRequest` (method, url, headers, query,
 * params, user, body, bodyUsed, text/json/arrayBuffer/blob/formData, clone), built lazily from the bytes the
 * host read, rather than a web `Request` per request. `user` is null: no App Service authentication here.
 */
export class LocalHttpRequest {
  #url: string;
  #parsed: URL | undefined;
  #used = false;

  /** `url` as sent (host header and request target); normalized by the URL parser when first read. */
  constructor(
    readonly method: string,
    url: string,
    readonly headers: Headers,
    readonly params: Record<string, string>,
    private readonly bytes: Buffer | undefined,
  ) {
    this.#url = url;
  }

  get url(): string {
    return this.parsed().href;
  }

  get query(): URLSearchParams {
    return this.parsed().searchParams;
  }

  private parsed(): URL {
    this.#parsed ??= new URL(this.#url);
    return this.#parsed;
  }

  get user(): null {
    return null;
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (!this.bytes || this.method === 'GET' || this.method === 'HEAD') return null;
    this.#used = true;
    return new Blob([this.bytes]).stream();
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    this.#used = true;
    const b = this.bytes ?? Buffer.alloc(0);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }

  async text(): Promise<string> {
    this.#used = true;
    return this.bytes ? this.bytes.toString('utf8') : '';
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }

  async blob(): Promise<Blob> {
    this.#used = true;
    return new Blob(this.bytes ? [this.bytes] : [], { type: this.headers.get('content-type') ?? '' });
  }

  async formData(): Promise<FormData> {
    this.#used = true;
    return new Request(this.url, {
      method: 'POST',
      headers: this.headers,
      body: this.bytes ?? '',
    }).formData();
  }

  clone(): LocalHttpRequest {
    return new LocalHttpRequest(
      this.method,
      this.#url,
      new Headers(this.headers),
      { ...this.params },
      this.bytes,
    );
  }
}
