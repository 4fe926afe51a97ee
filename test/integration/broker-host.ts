/**
 * Starts the broker for a test file the way `npm start` does, in this worker: the local Functions host
 * serving the registrations in functions/, with settings naming the global setup's Azurite and simulators.
 * Each test file runs in its own forked worker, so the settings and the broker instance are its own.
 * A test file that uses it must not import functions/ or @azure/functions statically: the library decides
 * on first use whether a host is there, and would settle on "test mode" before the core module is installed.
 * @module
 */
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inject } from 'vitest';
import type { Broker } from '../../src/broker.js';
import { installCoreModule, startFunctionsHost, type RunningHost } from '../../local/functions-host.js';

export interface TestBroker extends RunningHost {
  /** A support-API token from the simulated Entra ID (see simulators/entra/control.ts for the fields). */
  staffToken(request?: Record<string, unknown>): Promise<string>;
  /** Writes the usage counts now instead of at the next periodic flush. */
  flushUsage(): Promise<void>;
  /** The broker object the registered functions use (functions/runtime.ts), e.g. to run a timer's work now. */
  instance(): Promise<Broker>;
}

export function sandboxSettings(): Record<string, string> {
  const sandbox = inject('sandbox');
  return {
    BROKER_PUBLIC_URL: 'http://localhost:7071',
    // The tests' webhook receivers listen on loopback.
    BROKER_WEBHOOK_PRIVATE_TARGETS: 'true',
    HOME_APP_CLIENT_ID: sandbox.homeApp.clientId,
    HOME_APP_CLIENT_SECRET: sandbox.homeApp.clientSecret,
    ENTRA_AUTHORITY_HOST: inject('entraUrl'),
    GRAPH_ENDPOINT: inject('graphUrl'),
    EXCHANGE_EWS_URL: `${inject('graphUrl')}/EWS/Exchange.asmx`,
    EXCHANGE_IMAP_HOST: inject('imapAddress'),
    EXCHANGE_POP_HOST: inject('pop3Address'),
    EXCHANGE_SMTP_HOST: inject('smtpAddress'),
    KEY_VAULT_URL: inject('keyVaultUrl'),
    BROKER_STORAGE: inject('tablesConnectionString'),
    VENDOR_TENANT_ID: sandbox.vendorTenantId,
    AZURE_TENANT_ID: sandbox.brokerIdentity.tenantId,
    AZURE_CLIENT_ID: sandbox.brokerIdentity.clientId,
    AZURE_CLIENT_SECRET: sandbox.brokerIdentity.clientSecret,
    AZURE_AUTHORITY_HOST: inject('entraUrl'),
  };
}

export async function startTestBroker(overrides: Record<string, string> = {}, port = 0): Promise<TestBroker> {
  Object.assign(process.env, sandboxSettings(), overrides);
  const registry = installCoreModule();
  const dir = resolve(import.meta.dirname, '../../functions');
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort()) {
    await import(pathToFileURL(join(dir, file)).href);
  }
  const host = await startFunctionsHost({ port, registry, log: () => undefined });
  const { broker } = await import('../../functions/runtime.js');
  return {
    ...host,
    flushUsage: async () => (await broker()).usage.flush(),
    instance: () => broker(),
    async staffToken(request = {}) {
      const res = await fetch(`${inject('controlUrl')}/_sim/staff-token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: inject('sandbox').staff.admin, ...request }),
      });
      if (!res.ok) throw new Error(`staff-token: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { access_token: string }).access_token;
    },
  };
}
