/**
 * The one broker of this Functions app, created on first use from the app settings, and at app start so that
 * a broken setting or profiles file shows at once. If creation fails, the next call tries again.
 * @module
 */
import './telemetry.js';
import { app, type InvocationContext } from '@azure/functions';
import { endingProfileWarnings } from '../src/appliances/ending-profiles.js';
import { createBroker, type Broker } from '../src/broker.js';
import { loadConfigFromEnvironment } from '../src/config.js';
import { stopAzureMonitor } from '../src/adapters/telemetry/azure-monitor.js';

let instance: Promise<Broker> | undefined;
let created: Broker | undefined;

export function broker(): Promise<Broker> {
  instance ??= createBroker(loadConfigFromEnvironment()).then(
    (b) => (created = b),
    (err: unknown) => {
      instance = undefined;
      throw err;
    },
  );
  return instance;
}

/**
 * Runs `use` with the broker: at once once it is created (the token endpoint's warm path then waits on no
 * promise of its own for it), else when it is.
 */
export function withBroker<T>(use: (b: Broker) => T | Promise<T>): Promise<T> {
  return created !== undefined ? Promise.resolve(use(created)) : broker().then(use);
}

app.hook.appStart(async () => {
  const b = await broker();
  // In the background, so that the first request is not held for a Key Vault read it makes anyway: a home app
  // credential that can never work (the home app's or another bundle's app's) is named in the log within seconds
  // of the start (and by /api/health).
  void b.appCredentialProblem().then(
    (problem) => problem && console.error(problem.message),
    () => undefined,
  );
  // In the background: counting appliances must never delay or fail the start.
  void endingProfileWarnings(b).then(
    (warnings) => warnings.forEach((w) => console.warn(w)),
    (err: unknown) =>
      console.warn(
        `Could not count the appliances on ending profiles: ${err instanceof Error ? err.name : 'error'}`,
      ),
  );
});

// Counts of vended tokens are kept in memory between flushes: write them before the instance goes away,
// then send the telemetry still buffered.
app.hook.appTerminate(async () => {
  const b = await instance?.catch(() => undefined);
  await b?.usage.stop();
  await stopAzureMonitor();
});

/**
 * The broker for one invocation: its audit entries carry the invocation id as correlation id. (Not an
 * AsyncLocalStorage: enabling one puts promise hooks on every request, the token endpoint's included.)
 */
export function correlated(b: Broker, context: InvocationContext): Broker {
  return { ...b, audit: b.audit.withCorrelation(context.invocationId) };
}
