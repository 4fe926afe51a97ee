/**
 * The one broker of this Functions app, created on first use from the app settings, and at app start so that
 * a broken setting or profiles file shows at once. If creation fails, the next call tries again.
 * @module
 */
import { app } from '@azure/functions';
import { createBroker, type Broker } from '../src/broker.js';
import { loadConfigFromEnvironment } from '../src/config.js';
import { runWithCorrelation } from '../src/audit/correlation.js';

let instance: Promise<Broker> | undefined;

export function broker(): Promise<Broker> {
  instance ??= createBroker(loadConfigFromEnvironment()).catch((err: unknown) => {
    instance = undefined;
    throw err;
  });
  return instance;
}

app.hook.appStart(async () => {
  await broker();
});

// Counts of vended tokens are kept in memory between flushes: write them before the instance goes away.
app.hook.appTerminate(async () => {
  const b = await instance?.catch(() => undefined);
  await b?.usage.stop();
});

// Every handler runs with its invocation id as the correlation id of the audit entries it writes.
app.hook.preInvocation((context) => {
  const handler = context.functionHandler;
  const id = context.invocationContext.invocationId;
  context.functionHandler = (...args: Parameters<typeof handler>) =>
    runWithCorrelation(id, () => handler(...args));
});
