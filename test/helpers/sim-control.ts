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

/** Entra's Global Administrator directory role template id (FACTS.md, "Role template ids"). */
export const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';

/** A new customer tenant whose `admin@<slug>.example` is a Global Administrator (slug: the name's letters). */
export async function tenantWithAdmin(name: string): Promise<{ id: string; admin: string }> {
  const slug = name.toLowerCase().replace(/[^a-z]/g, '');
  const id = await newTenant(name, [`${slug}.example`]);
  const admin = `admin@${slug}.example`;
  await control('POST', `/_sim/tenants/${id}/users`, {
    userPrincipalName: admin,
    directoryRoles: [GLOBAL_ADMIN],
  });
  return { id, admin };
}
