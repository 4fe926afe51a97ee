/**
 * Starts the stand-ins once for the whole run: Azurite (fresh data in a temp folder) and the simulated
 * Microsoft cloud over HTTPS with a sandbox CA, seeded as `npm start` seeds it. Tests read the endpoints
 * with `inject()`. Workers are forked after this runs, so NODE_EXTRA_CA_CERTS set here makes them trust
 * the CA exactly as the broker process does under `npm start`.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startAzurite, type RunningAzurite } from '../local/azurite.js';
import { writeCaBundle } from '../local/ca-bundle.js';
import { loadOrCreateSandboxTls } from '../simulators/common/ca.js';
import { startSimulators, type RunningSimulators } from '../simulators/index.js';
import { seedSandbox, type SandboxIdentities } from '../simulators/sandbox.js';

declare module 'vitest' {
  export interface ProvidedContext {
    entraUrl: string;
    graphUrl: string;
    keyVaultUrl: string;
    controlUrl: string;
    /** `host:port` of the simulated Exchange IMAP (TLS, simulators/mail/imap.ts). */
    imapAddress: string;
    /** `host:port` of the simulated Exchange POP3 (TLS) and SMTP submission (STARTTLS). */
    pop3Address: string;
    smtpAddress: string;
    tablesConnectionString: string;
    caBundlePath: string;
    /** The sandbox CA's folder (loadOrCreateSandboxTls): for a test's own HTTPS server that the broker trusts. */
    sandboxTlsDir: string;
    sandbox: SandboxIdentities;
  }
}

let sims: RunningSimulators | undefined;
let azurite: RunningAzurite | undefined;
let dir: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  dir = await mkdtemp(join(tmpdir(), 'consent-broker-test-'));
  const tls = await loadOrCreateSandboxTls(join(dir, 'tls'));
  process.env.NODE_EXTRA_CA_CERTS = await writeCaBundle(
    join(dir, 'ca-bundle.pem'),
    tls.caCertPem,
    process.env.NODE_EXTRA_CA_CERTS,
  );
  [sims, azurite] = await Promise.all([
    startSimulators(tls),
    startAzurite({ location: join(dir, 'azurite') }),
  ]);
  const sandbox = seedSandbox(sims.world, { publicUrl: 'http://localhost:7071' });
  project.provide('entraUrl', sims.urls.entra);
  project.provide('graphUrl', sims.urls.graph);
  project.provide('keyVaultUrl', sims.urls.keyVault);
  project.provide('controlUrl', sims.urls.control);
  project.provide('imapAddress', sims.urls.imap);
  project.provide('pop3Address', sims.urls.pop3);
  project.provide('smtpAddress', sims.urls.smtp);
  project.provide('tablesConnectionString', azurite.connectionString);
  project.provide('caBundlePath', process.env.NODE_EXTRA_CA_CERTS);
  project.provide('sandboxTlsDir', join(dir, 'tls'));
  project.provide('sandbox', sandbox);
}

export async function teardown(): Promise<void> {
  await Promise.all([sims?.close(), azurite?.stop()]);
  if (dir) await rm(dir, { recursive: true, force: true });
}
