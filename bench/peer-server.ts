/**
 * The peer of the benchmark (README.md "Benchmark": the peer): `oidc-provider`, the token server a team would
 * otherwise pick in Node, configured minimally and correctly for the same job — one confidential client with
 * `client_secret_basic`, the client-credentials grant enabled, the scope the bench asks for allowed, and the
 * provider's default in-memory adapter. It issues its default opaque access token (no signing per request,
 * the cheapest token it can issue). Started by bench/run.ts in a child process of its own, like the broker;
 * prints `LISTENING <port>` when ready.
 *
 * Usage: node dist/bench/peer-server.js <clientId> <clientSecret> <scope>
 * @module
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

async function main(): Promise<void> {
  const [clientId, clientSecret, scope] = process.argv.slice(2);
  if (!clientId || !clientSecret || !scope)
    throw new Error('usage: peer-server <clientId> <clientSecret> <scope>');
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const provider = new Provider('http://localhost', {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        scope,
      },
    ],
    scopes: [scope],
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
    },
    jwks: { keys: [{ ...(await exportJWK(privateKey)), alg: 'RS256', use: 'sig', kid: 'bench' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
  });
  const server = createServer(provider.callback());
  server.listen(0, '127.0.0.1', () => {
    console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main().catch((err: unknown) => {
  console.error(`peer-server: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
