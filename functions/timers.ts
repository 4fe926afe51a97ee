/** Timers (run by the Functions host, and by the local host on the same schedules). @module */
import { app } from '@azure/functions';
import { reverifyPendingConsents } from '../src/consent/flow.js';
import { broker } from './runtime.js';

// Every 15 s: consents Entra accepted but could not show yet are re-checked with backoff (src/consent/flow.ts).
app.timer('reverifyPendingConsents', {
  schedule: '*/15 * * * * *',
  handler: async (_timer, context) => {
    const checked = await reverifyPendingConsents(await broker());
    if (checked > 0) context.log(`re-checked ${checked} pending consent(s)`);
  },
});
