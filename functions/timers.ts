/** Timers (run by the Functions host, and by the local host on the same schedules). @module */
import { bundleCredentials } from '../src/credentials/bundle-apps.js';
import './telemetry.js';
import { app } from '@azure/functions';
import { reverifyPendingConsents } from '../src/consent/verification.js';
import { RECHECK_EVERY_MS, recheckConsents } from '../src/tenants/consent-watch.js';
import { flagExpiringCredentials } from '../src/credentials/expiry.js';
import { purgeExpiredRows } from '../src/maintenance/purge.js';
import { deliverDueWebhooks } from '../src/webhooks/webhooks.js';
import { broker, correlated } from './runtime.js';

// Every 15 s: consents Entra accepted but could not show yet are re-checked with backoff (src/consent/flow.ts).
app.timer('reverifyPendingConsents', {
  schedule: '*/15 * * * * *',
  handler: async (_timer, context) => {
    const checked = await reverifyPendingConsents(correlated(await broker(), context));
    if (checked > 0) context.log(`re-checked ${checked} pending consent(s)`);
  },
});

// Every 5 minutes (RECHECK_EVERY_MS): the tenants whose slot in the 6-hour cycle falls in the last 5 minutes are re-proven, so a
// consent removed in a customer tenant is noticed within about 6 hours without a burst (src/tenants/consent-watch.ts).
app.timer('recheckConsents', {
  schedule: '0 */5 * * * *',
  handler: async (_timer, context) => {
    const b = correlated(await broker(), context);
    const checked = await recheckConsents(b, new Date(b.now().getTime() - RECHECK_EVERY_MS));
    if (checked > 0) context.log(`re-checked the consent of ${checked} tenant(s)`);
  },
});

// Every minute: webhook deliveries that are due (a retry, or one the instance that queued it could not send),
// from any instance; each endpoint's in order (src/webhooks/webhooks.ts).
app.timer('deliverWebhooks', {
  schedule: '0 * * * * *',
  handler: async (_timer, context) => {
    const delivered = await deliverDueWebhooks(correlated(await broker(), context));
    if (delivered > 0) context.log(`delivered ${delivered} webhook event(s)`);
  },
});

// Daily at 03:00 UTC: credentials ending within 30 days are flagged (src/credentials/expiry.ts).
app.timer('flagExpiringCredentials', {
  schedule: '0 0 3 * * *',
  handler: async (_timer, context) => {
    const b = correlated(await broker(), context);
    const flagged = await flagExpiringCredentials({
      ...b,
      homeAppCredential: b.config.homeAppCredential,
      bundleCredentials: bundleCredentials(b.apps),
    });
    if (flagged.homeApp || flagged.bundles.length || flagged.tenants.length)
      context.warn(
        `credentials expiring: home app ${flagged.homeApp}, bundle apps ${flagged.bundles.join(', ') || 'none'}, tenants ${flagged.tenants.length}`,
      );
  },
});

// Daily at 04:30 UTC: rows that no longer guard anything (expired consent states, used-state markers, jti rows,
// old change-journal entries) are deleted, so those tables do not grow for ever (src/maintenance/purge.ts).
app.timer('purgeExpiredRows', {
  schedule: '0 30 4 * * *',
  handler: async (_timer, context) => {
    const b = await broker();
    const purged = await purgeExpiredRows(b);
    context.log(
      `purged ${purged.states} state(s), ${purged.used} used-state marker(s), ${purged.assertions} jti row(s), ${purged.changes} journal entries`,
    );
  },
});
