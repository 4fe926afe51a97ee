/**
 * The `@azure/functions-core` module, as the Azure Functions Node worker provides it: `@azure/functions`
 * registers each function (`registerFunction(metadata, handler)`) and hook (`registerHook`) through it — see
 * `@azure/functions` src/app.ts and src/utils/tryGetCoreApiLazy.ts. This file answers
 * `require('@azure/functions-core')` with a module that records those registrations, and calls a registered
 * function the way the worker does (src/InvocationModel.ts: `preInvocation` hooks, then the handler).
 * @module
 */
import Module, { createRequire } from 'node:module';
import { compileRoute, type CompiledRoute } from './routes.js';

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

export type Callback = (...args: unknown[]) => unknown;

export interface HttpFunction extends CompiledRoute {
  readonly name: string;
  readonly route: string;
  readonly methods: readonly string[];
  readonly handler: Callback;
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
        registry.http.push({
          name: metadata.name,
          route,
          methods: (trigger.methods ?? ['GET', 'POST']).map((m) => m.toUpperCase()),
          handler,
          ...compileRoute(route),
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
 * Calls a function as the worker does: `preInvocation` hooks first, which may replace the handler
 * (`functionCallback`) or its inputs, then the handler with the inputs.
 */
export async function invoke(
  registry: Registry,
  handler: Callback,
  inputs: unknown[],
  invocationContext: unknown,
): Promise<unknown> {
  const core = { hookData: {}, invocationContext, inputs, functionCallback: handler };
  for (const hook of registry.hooks.get('preInvocation') ?? []) await hook(core);
  return core.functionCallback(...core.inputs);
}

/**
 * The `@azure/functions` library the app registered through, for its `HttpRequest`, `HttpResponse` and
 * `InvocationContext` classes, loaded when first needed (after `installCoreModule`). Loaded with `require`: the
 * library is a CommonJS bundle whose classes Node's ESM named-export detection does not see.
 */
export function functionsLibrary(): typeof import('@azure/functions') {
  library ??= createRequire(import.meta.url)('@azure/functions') as typeof import('@azure/functions');
  return library;
}

let library: typeof import('@azure/functions') | undefined;
