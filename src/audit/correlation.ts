/**
 * The correlation id of the work in progress — the Functions invocation id of the request or timer run — so
 * that every audit entry written while serving it can be tied to the host's logs of that invocation. Set by
 * a preInvocation hook (functions/runtime.ts) around each handler.
 * @module
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const storage = new AsyncLocalStorage<string>();

export function runWithCorrelation<T>(correlationId: string, fn: () => T): T {
  return storage.run(correlationId, fn);
}

export function currentCorrelationId(): string | undefined {
  return storage.getStore();
}
