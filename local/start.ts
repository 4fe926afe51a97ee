/**
 * `npm start`: the broker with an embedded stand-in for every outside service whose setting is absent
 * (SPEC.md "Settings"): Azurite for Table Storage, and the repo's simulators of Entra ID, Microsoft Graph and
 * Key Vault over HTTPS with a CA generated on first start. The broker itself runs in a child process
 * (local/host.ts) whose NODE_EXTRA_CA_CERTS holds that CA next to any inherited bundle, and whose settings
 * name the stand-ins' endpoints: the broker's code is the same either way. Ctrl-C stops everything.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAzurite, type RunningAzurite } from './azurite.js';
import { writeCaBundle } from './ca-bundle.js';
import { loadOrCreateSandboxTls } from '../simulators/common/ca.js';
import { startSimulators, type RunningSimulators } from '../simulators/index.js';
import { simCloudOrPublic } from '../simulators/common/clouds.js';
import { World } from '../simulators/common/world.js';
import { sandboxIdentities, seedSandbox } from '../simulators/sandbox.js';
import { autosaveWorld, restoreWorld, type WorldSaver } from './world-file.js';
import { seedVaultSecret } from '../simulators/keyvault/index.js';
import { loadProfiles } from '../src/profiles/profiles.js';
import { seedBundleApps } from './bundle-apps.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const dataDir = resolve(process.env.BROKER_DATA_DIR ?? join(root, '.data'));
export const SANDBOX_FILE = join(dataDir, 'sandbox', 'endpoints.json');
export const HOME_APP_CREDENTIAL_NAME = 'home-app-credential';

const has = (name: string) => Boolean(process.env[name]?.trim());

async function main(): Promise<void> {
  const env: Record<string, string | undefined> = { ...process.env };
  const standIns: string[] = [];
  let sims: RunningSimulators | undefined;
  let azurite: RunningAzurite | undefined;
  let saver: WorldSaver | undefined;
  const stopStandIns = async () => {
    await Promise.allSettled([saver?.stop(), sims?.close(), azurite?.stop()]);
  };

  try {
    env.PORT ??= '7071';
    env.BROKER_PUBLIC_URL ??= `http://localhost:${env.PORT}`;

    outsideEntraSettings();
    const needCloud = ['ENTRA_AUTHORITY_HOST', 'GRAPH_ENDPOINT', 'KEY_VAULT_URL'].some((n) => !has(n));
    if (needCloud) {
      const tls = await loadOrCreateSandboxTls(join(dataDir, 'sandbox', 'tls'));
      // The stand-ins behave as BROKER_CLOUD's Microsoft cloud: its issuers and resource URIs (docs/clouds.md).
      sims = await startSimulators(tls, {}, new World(Date.now, simCloudOrPublic(process.env.BROKER_CLOUD)));
      const worldFile = join(dataDir, 'sandbox', 'world.json');
      const ids = (await restoreWorld(sims.world, worldFile))
        ? sandboxIdentities(sims.world, { publicUrl: env.BROKER_PUBLIC_URL })
        : seedSandbox(sims.world, { publicUrl: env.BROKER_PUBLIC_URL });
      saver = autosaveWorld(sims.world, worldFile);
      env.NODE_EXTRA_CA_CERTS = await writeCaBundle(
        join(dataDir, 'sandbox', 'ca-bundle.pem'),
        tls.caCertPem,
        process.env.NODE_EXTRA_CA_CERTS,
      );
      if (!has('ENTRA_AUTHORITY_HOST')) {
        env.ENTRA_AUTHORITY_HOST = sims.urls.entra;
        standIns.push(`Entra ID simulator      ${sims.urls.entra}`);
      }
      if (!has('GRAPH_ENDPOINT')) {
        env.GRAPH_ENDPOINT = sims.urls.graph;
        standIns.push(`Microsoft Graph sim.    ${sims.urls.graph}`);
        // EWS is served by the same simulator (simulators/graph/ews.ts), which accepts only the embedded Entra's tokens.
        if (!has('EXCHANGE_EWS_URL')) {
          env.EXCHANGE_EWS_URL = `${sims.urls.graph}/EWS/Exchange.asmx`;
          standIns.push(`Exchange EWS sim.       ${env.EXCHANGE_EWS_URL}`);
        }
      }
      // Exchange Online's IMAP stand-in, for a PBX's (or curl's) XOAUTH2 login with a vended token, and the
      // broker's own login that proves a user may use a shared mailbox.
      if (!has('EXCHANGE_IMAP_HOST')) {
        env.EXCHANGE_IMAP_HOST = sims.urls.imap;
        standIns.push(`Exchange IMAP sim.      imaps://${sims.urls.imap}`);
      }
      if (!has('EXCHANGE_POP_HOST')) {
        env.EXCHANGE_POP_HOST = sims.urls.pop3;
        standIns.push(`Exchange POP3 sim.      pop3s://${sims.urls.pop3}`);
      }
      if (!has('EXCHANGE_SMTP_HOST')) {
        env.EXCHANGE_SMTP_HOST = sims.urls.smtp;
        standIns.push(`Exchange SMTP sim.      smtp://${sims.urls.smtp} (STARTTLS)`);
      }
      if (!has('KEY_VAULT_URL')) {
        env.KEY_VAULT_URL = sims.urls.keyVault;
        standIns.push(`Key Vault simulator     ${sims.urls.keyVault}`);
        // The broker reaches the vault as its own identity (a managed identity in Azure), which the embedded
        // Entra ID issues whatever ENTRA_AUTHORITY_HOST names: the embedded vault trusts only it (an
        // outside Entra does not know the sandbox's broker identity, and its tokens are not
        // the embedded vault's to accept).
        env.AZURE_TENANT_ID ??= ids.brokerIdentity.tenantId;
        env.AZURE_CLIENT_ID ??= ids.brokerIdentity.clientId;
        env.AZURE_CLIENT_SECRET ??= ids.brokerIdentity.clientSecret;
        env.AZURE_AUTHORITY_HOST ??= sims.urls.entra;
      }
      if (!has('HOME_APP_CLIENT_ID')) env.HOME_APP_CLIENT_ID = ids.homeApp.clientId;
      if (!has('HOME_APP_CLIENT_SECRET') && !has('HOME_APP_CREDENTIAL_NAME')) {
        seedVaultSecret(sims.world, HOME_APP_CREDENTIAL_NAME, ids.homeApp.clientSecret);
        env.HOME_APP_CREDENTIAL_NAME = HOME_APP_CREDENTIAL_NAME;
      }
      // A profiles file with bundles: their apps too, unless the operator named the home app (then its own).
      if (env.HOME_APP_CLIENT_ID === ids.homeApp.clientId) {
        const profiles = await loadProfiles(env.BROKER_PROFILES_FILE?.trim() || undefined);
        for (const [name, value] of Object.entries(
          seedBundleApps(sims.world, profiles, env.BROKER_PUBLIC_URL!),
        ))
          if (!has(name)) env[name] = value;
      }
      if (!has('VENDOR_TENANT_ID')) env.VENDOR_TENANT_ID = ids.vendorTenantId;
      if (!has('BROKER_VENDOR_NAME')) env.BROKER_VENDOR_NAME = 'Northwind Telephony';
      await mkdir(dirname(SANDBOX_FILE), { recursive: true });
      await writeFile(
        SANDBOX_FILE,
        JSON.stringify(
          {
            controlUrl: sims.urls.control,
            caCertPath: tls.caCertPath,
            entraUrl: sims.urls.entra,
            imapAddress: sims.urls.imap,
            pop3Address: sims.urls.pop3,
            smtpAddress: sims.urls.smtp,
            brokerUrl: env.BROKER_PUBLIC_URL,
            vendorTenantId: env.VENDOR_TENANT_ID,
            homeAppClientId: env.HOME_APP_CLIENT_ID,
            customers: ids.customers,
            staff: ids.staff,
          },
          null,
          2,
        ),
      );
    }

    if (!has('BROKER_STORAGE') && !has('BROKER_STORAGE__tableServiceUri')) {
      const location = join(dataDir, 'azurite');
      try {
        azurite = await startAzurite({ location });
      } catch (err) {
        throw new Error(
          `${(err as Error).message}\nIf ${location} is damaged, remove it to start with empty tables.`,
          { cause: err },
        );
      }
      env.BROKER_STORAGE = azurite.connectionString;
      standIns.push(`Table Storage (Azurite) ${azurite.tableEndpoint}  data in ${location}`);
    }
  } catch (err) {
    await stopStandIns();
    throw err;
  }

  // The sandbox's webhook receivers run on this machine (README "Settings").
  if (!has('BROKER_WEBHOOK_PRIVATE_TARGETS')) env.BROKER_WEBHOOK_PRIVATE_TARGETS = 'true';

  if (standIns.length) {
    console.log('\n  SANDBOX: these settings are absent, so embedded stand-ins serve them:');
    for (const s of standIns) console.log(`    ${s}`);
    if (sims)
      console.log(
        `  The stand-ins behave as the ${sims.world.cloud.name} cloud (BROKER_CLOUD, docs/clouds.md).`,
      );
    console.log(
      '  Nothing here reaches Microsoft. Set the settings to use real services (README "Settings").\n',
    );
  }

  const child: ChildProcess = spawn(process.execPath, [join(root, 'dist/local/host.js')], {
    env,
    stdio: 'inherit',
  });
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    child.kill(signal === 'SIGINT' ? 'SIGTERM' : signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  child.on('exit', (code, signal) => {
    void stopStandIns().then(() => {
      if (!stopping && code !== 0)
        console.error(
          `\n  The broker stopped (${signal ?? `exit code ${code}`}); the stand-ins are stopped too.`,
        );
      process.exit(stopping ? 0 : (code ?? 1));
    });
  });
  if (sims)
    console.log(`  Staff token for the support API: npm run staff-token   (details in README "Sandbox")\n`);
}

/**
 * Entra ID and Graph come as a pair, embedded or outside (an outside Entra's tokens mean nothing to the
 * embedded Graph, and the other way round); with an outside Entra, the home app and the vendor tenant are that
 * Entra's, so the embedded ones cannot stand in. Refuses a half-set pair with the settings to add (README
 * "Sandbox against an outside Entra ID").
 */
function outsideEntraSettings(): void {
  const pair = ['ENTRA_AUTHORITY_HOST', 'GRAPH_ENDPOINT'];
  const given = pair.filter(has);
  if (given.length === 1)
    throw new Error(
      `${given[0]} is set but ${pair.find((n) => !has(n))} is not: set both (an outside Entra ID and its Graph), or neither (the embedded ones).`,
    );
  if (given.length === 0) return;
  const missing = ['HOME_APP_CLIENT_ID', 'VENDOR_TENANT_ID'].filter((n) => !has(n));
  if (!has('HOME_APP_CLIENT_SECRET') && !has('HOME_APP_CREDENTIAL_NAME'))
    missing.push('HOME_APP_CLIENT_SECRET (or HOME_APP_CREDENTIAL_NAME)');
  if (missing.length)
    throw new Error(
      `With an outside Entra ID (ENTRA_AUTHORITY_HOST), set its home app and vendor tenant too: ${missing.join(', ')}.`,
    );
}

main().catch((err: unknown) => {
  console.error(`npm start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
