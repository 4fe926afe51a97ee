/**
 * Starts the simulated Microsoft cloud: Entra ID, Microsoft Graph and Key Vault over HTTPS with the sandbox
 * CA, plus the control surface. Used by `npm start` (local/start.ts) for each absent setting, and by the test
 * global setup.
 * @module
 */
import type { SandboxTls } from './common/ca.js';
import { startSimServer } from './common/server.js';
import { createTokenKeys } from './common/tokens.js';
import { World } from './common/world.js';
import type { SimContext, SimUrls } from './context.js';
import { controlErrorBody, controlRoutes } from './control.js';
import { entraControlRoutes, entraErrorBody, entraRoutes } from './entra/index.js';
import { graphErrorBody, graphRoutes } from './graph/index.js';
import { startImapServer } from './mail/imap.js';
import { startPop3Server } from './mail/pop3.js';
import { startSmtpServer } from './mail/smtp.js';
import { keyVaultErrorBody, keyVaultRoutes } from './keyvault/index.js';

export interface RunningSimulators {
  readonly world: World;
  /** `imap`, `pop3`: `host:port` of the IMAP and POP3 stand-ins (TLS); `smtp`: of SMTP submission (STARTTLS). */
  readonly urls: SimUrls & {
    readonly control: string;
    readonly imap: string;
    readonly pop3: string;
    readonly smtp: string;
  };
  close(): Promise<void>;
}

export interface SimulatorPorts {
  entra?: number;
  graph?: number;
  keyVault?: number;
  control?: number;
  imap?: number;
  pop3?: number;
  smtp?: number;
}

export async function startSimulators(
  tls: SandboxTls,
  ports: SimulatorPorts = {},
  world = new World(),
): Promise<RunningSimulators> {
  const urls = { entra: '', graph: '', keyVault: '', control: '', imap: '', pop3: '', smtp: '' };
  const ctx: SimContext = { world, keys: createTokenKeys(), urls };
  const servers = [
    { key: 'entra', name: 'entra', routes: entraRoutes(ctx), errorBody: entraErrorBody },
    { key: 'graph', name: 'graph', routes: graphRoutes(ctx), errorBody: graphErrorBody },
    { key: 'keyVault', name: 'keyvault', routes: keyVaultRoutes(ctx), errorBody: keyVaultErrorBody },
    {
      key: 'control',
      name: 'control',
      routes: [...controlRoutes(ctx), ...entraControlRoutes(ctx)],
      errorBody: controlErrorBody,
    },
  ] as const;
  const started: { close(): Promise<void> }[] = [];
  try {
    for (const s of servers) {
      const server = await startSimServer({
        name: s.name,
        tls,
        world,
        routes: s.routes,
        errorBody: s.errorBody,
        port: ports[s.key],
      });
      started.push(server);
      urls[s.key] = server.url;
    }
    // Exchange Online's IMAP (993), POP3 (995) and SMTP submission (587), for the real-client checks
    // (simulators/mail/).
    const imap = await startImapServer(ctx, tls, ports.imap);
    started.push(imap);
    urls.imap = imap.address;
    const pop3 = await startPop3Server(ctx, tls, ports.pop3);
    started.push(pop3);
    urls.pop3 = pop3.address;
    const smtp = await startSmtpServer(ctx, tls, ports.smtp);
    started.push(smtp);
    urls.smtp = smtp.address;
  } catch (err) {
    await Promise.all(started.map((s) => s.close()));
    throw err;
  }
  return {
    world,
    urls,
    close: async () => {
      await Promise.all(started.map((s) => s.close()));
    },
  };
}
