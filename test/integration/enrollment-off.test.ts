/**
 * BROKER_ENROLLMENT=off: a device asking to enroll gets 403 `access_denied` (refused before anything is written); the page says
 * enrollment is closed (src/appliances/enrollment.ts).
 * @module
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker({ BROKER_ENROLLMENT: 'off' });
});
afterAll(async () => {
  await broker?.close();
});

describe('self-enrollment turned off', () => {
  it('refuses the device (403 access_denied) and the code page', async () => {
    const res = await fetch(`${broker.url}/appliance/enroll`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'scope=exchange-imap',
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'access_denied' });
    const page = await new ConsentBrowser(broker.url).open(
      'http://localhost:7071/enroll?user_code=BCDF-GHJK',
    );
    expect(page.status).toBe(403);
  });
});
