/** Timers (run by the Functions host, and by the local host on the same schedules). @module */
import { app } from '@azure/functions';
import { reverifyPendingConsents } from '../src/consent/flow.js';
import { recheckConsents } from '../src/tenants/consent-watch.js';
import { broker } from './runtime.js';

// Every 15 s: consents Entra accepted but could not show yet are re-checked with backoff (src/consent/flow.ts).
app.timer('reverifyPendingConsents', {
  schedule: '*/15 * * * * *',
  handler: async (_timer, context) => {
    const checked = await reverifyPendingConsents(await broker());
    if (checked > 0) context.log(`re-checked ${checked} pending consent(s)`);
  },
});

// Every 5 minutes: the tenants whose slot in the 6-hour cycle falls in the last 5 minutes are re-proven, so a
// consent removed in a customer tenant is noticed within about 6 hours without a burst (src/tenants/consent-watch.ts).
app.timer('recheckConsents', {
  schedule: '0 */5 * * * *',
  handler: async (_timer, context) => {
    const b = await broker();
    const checked = await recheckConsents(b, new Date(b.now().getTime() - 5 * 60_000));
    if (checked > 0) context.log(`re-checked the consent of ${checked} tenant(s)`);
  },
});
