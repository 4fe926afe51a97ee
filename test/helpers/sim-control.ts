/** Test access to the simulated cloud's control surface (simulators/control.ts, simulators/entra/control.ts). @module */
import { inject } from 'vitest';

export async function control<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${inject('controlUrl')}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** A new customer tenant of its own, so that tests do not share state. */
export async function newTenant(displayName: string, domains?: string[]): Promise<string> {
  return (await control<{ id: string }>('POST', '/_sim/tenants', { displayName, domains })).id;
}

/** Admin consent to the sandbox home app in `tenantId`, with the roles it asks for. */
export async function consentHomeApp(tenantId: string): Promise<void> {
  await control('POST', `/_sim/tenants/${tenantId}/consents`, { appId: inject('sandbox').homeApp.clientId });
}
