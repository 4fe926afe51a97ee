/**
 * Telemetry to Application Insights on the wire: the broker started with APPLICATIONINSIGHTS_CONNECTION_STRING
 * naming a local ingestion endpoint (test/helpers/ingestion.ts) sends requests, dependencies and the broker's
 * metrics there, and nothing it sends holds a secret, a token, an authorization code,
 * a `state`, a consent link's code or a client assertion (SPEC.md "Guarantees").
 * @module
 */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, it, inject } from 'vitest';
import { ConsentBrowser } from '../helpers/consent-browser.js';
import { baseData, startIngestion, TEST_TELEMETRY_SETTINGS, type Ingestion } from '../helpers/ingestion.js';
import { control, newTenant } from '../helpers/sim-control.js';
import { startTestBroker, type TestBroker } from './broker-host.js';

const EXO = 'https://outlook.office365.com/.default';
const GLOBAL_ADMIN = '62e90394-69f5-4237-9190-012177145e10';

let ingestion: Ingestion;
let broker: TestBroker | undefined;

beforeAll(async () => {
  ingestion = await startIngestion();
  // Every request traced (the default samples at a rate), so that each one is checked; no usage reports.
  broker = await startTestBroker({
    APPLICATIONINSIGHTS_CONNECTION_STRING: ingestion.connectionString,
    ...TEST_TELEMETRY_SETTINGS,
  });
});

afterAll(async () => {
  await broker?.close();
  await ingestion?.close();
});

it('exports requests and broker metrics to Application Insights, without any secret, token, code or assertion', async () => {
  const b = broker!;
  const staff = await b.staffToken();
  // A consent through the real flow: landing page, Entra, callback, the admin's OpenID Connect sign-in.
  const domain = 'telemetry.example';
  const tenantId = await newTenant('Telemetry Ltd', [domain]);
  await control('POST', `/_sim/tenants/${tenantId}/users`, {
    userPrincipalName: `admin@${domain}`,
    directoryRoles: [GLOBAL_ADMIN],
  });
  const onboarding = await fetch(`${b.url}/api/onboardings`, {
    method: 'POST',
    headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
    body: JSON.stringify({ customerRef: 'REF-TELEMETRY', profiles: ['exchange-imap'] }),
  });
  expect(onboarding.status).toBe(201);
  const { consentUrl, code: linkCode } = (await onboarding.json()) as { consentUrl: string; code: string };
  const browser = new ConsentBrowser(b.url);
  const landing = await browser.open(consentUrl);
  expect(landing.status).toBe(200);
  const done = await browser.submit(await browser.open(`${consentUrl}/go`), {
    user: `admin@${domain}`,
    decision: 'approve',
  });
  expect(done.status).toBe(200);
  const signIn = browser.visited.map((u) => new URL(u)).find((u) => u.pathname === '/consent/signin');
  const callback = browser.visited.map((u) => new URL(u)).find((u) => u.pathname === '/consent/callback');
  const authCode = signIn?.searchParams.get('code');
  expect(authCode).toBeTruthy();
  const states = [signIn?.searchParams.get('state'), callback?.searchParams.get('state')];

  // Tokens: client_secret_basic (secret in the Authorization header), client_secret_post (in the body),
  // private_key_jwt (an assertion in the body), and a wrong secret.
  const register = async (auth: unknown) => {
    const res = await fetch(`${b.url}/api/appliances`, {
      method: 'POST',
      headers: { authorization: `Bearer ${staff}`, 'content-type': 'application/json' },
      body: JSON.stringify({ customerRef: 'PBX-TELEMETRY', tenantId, profiles: ['exchange-imap'], auth }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { clientId: string; clientSecret?: string };
  };
  const token = (form: Record<string, string>, authorization?: string) =>
    fetch(`${b.url}/oauth2/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        ...(authorization ? { authorization } : {}),
      },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: EXO, ...form }).toString(),
    });
  const secretClient = await register({ method: 'client_secret' });
  const secret = secretClient.clientSecret!;
  const basic = `Basic ${Buffer.from(`${secretClient.clientId}:${secret}`).toString('base64')}`;
  const accessTokens: string[] = [];
  for (const res of [
    await token({}, basic),
    await token({ client_id: secretClient.clientId, client_secret: secret }),
  ]) {
    expect(res.status).toBe(200);
    accessTokens.push(((await res.json()) as { access_token: string }).access_token);
  }
  const wrongSecret = `cbs_${'x'.repeat(43)}`;
  expect(
    (await token({}, `Basic ${Buffer.from(`${secretClient.clientId}:${wrongSecret}`).toString('base64')}`))
      .status,
  ).toBe(401);

  const pair = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'ES256' };
  const jwtClient = await register({ method: 'private_key_jwt', jwks: { keys: [jwk] } });
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({
    iss: jwtClient.clientId,
    sub: jwtClient.clientId,
    aud: 'http://localhost:7071/oauth2/token',
    jti: randomUUID(),
    iat: now,
    exp: now + 120,
  })
    .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
    .sign(pair.privateKey);
  const jwtRes = await token({
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: assertion,
  });
  expect(jwtRes.status).toBe(200);
  accessTokens.push(((await jwtRes.json()) as { access_token: string }).access_token);

  // Stopping the app runs its appTerminate hook, which sends what the exporter still buffers.
  await b.close();
  broker = undefined;

  const all = ingestion.envelopes();
  const requests = all.filter((e) => e.name === 'Microsoft.ApplicationInsights.Request').map(baseData);
  const urls = requests.map((r) => String(r.url));
  expect(urls.filter((u) => new URL(u).pathname === '/oauth2/token')).toHaveLength(4);
  // The sign-in's query (code, state) and the consent link's code are not in any URL.
  expect(urls.some((u) => u.endsWith('/consent/signin?REDACTED') || u.endsWith('/consent/signin'))).toBe(
    true,
  );
  expect(urls.map((u) => new URL(u).pathname)).toContain('/connect/%7Bcode%7D');

  // Calls the broker makes: the Azure SDKs' own spans (Table Storage, Key Vault) and HTTP to Entra ID.
  const dependencies = all
    .filter((e) => e.name === 'Microsoft.ApplicationInsights.RemoteDependency')
    .map(baseData)
    .map((d) => ({ type: String(d.type), name: String(d.name) }));
  expect(dependencies).toContainEqual({
    type: 'InProc | Microsoft.Data.Tables',
    name: 'TableClient.getEntity',
  });
  expect(dependencies).toContainEqual({
    type: 'InProc | Microsoft.KeyVault',
    name: 'SecretClient.getSecret',
  });
  expect(dependencies.some((d) => d.type === 'Http' && /\/oauth2\/v2\.0\/token$/.test(d.name))).toBe(true);

  const metrics = all
    .filter((e) => e.name === 'Microsoft.ApplicationInsights.Metric')
    .flatMap((e) => {
      const data = baseData(e);
      return (data.metrics as { name: string; value: number }[]).map((m) => ({
        ...m,
        properties: (data.properties ?? {}) as Record<string, string>,
      }));
    });
  const sum = (name: string, props: Record<string, string> = {}) =>
    metrics
      .filter((m) => m.name === name && Object.entries(props).every(([k, v]) => m.properties[k] === v))
      .reduce((n, m) => n + m.value, 0);
  expect(sum('broker.token.vended', { resource: EXO })).toBe(3);
  expect(sum('broker.token.errors', { error: 'invalid_client' })).toBe(1);
  expect(sum('broker.consent.outcomes', { outcome: 'granted' })).toBe(1);
  expect(sum('broker.token_cache.lookups', { result: 'hit' })).toBe(2);
  expect(sum('broker.token_cache.lookups', { result: 'miss' })).toBe(1);
  expect(
    metrics.some((m) => m.name === 'broker.entra.request.duration' && m.properties.outcome === 'ok'),
  ).toBe(true);

  // Nothing sent anywhere (track, Live Metrics) holds a credential of this test.
  const sent = ingestion.received.map((r) => `${r.path}\n${r.body}`).join('\n');
  const forbidden = [
    secret,
    wrongSecret,
    assertion,
    staff,
    authCode!,
    ...states.filter((s): s is string => !!s),
    linkCode,
    inject('sandbox').homeApp.clientSecret,
    ...accessTokens,
  ];
  for (const value of forbidden)
    expect(sent.includes(value), `a credential (${value.slice(0, 6)}…) was sent`).toBe(false);
  expect(sent).not.toMatch(/[?&]code=/);
  expect(sent).not.toMatch(/[?&]state=/);
  expect(sent).not.toMatch(/client_secret=|client_assertion=/);
});
