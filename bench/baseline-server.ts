/**
 * The floor of the benchmark (README.md "Benchmark": the floor): a bare `node:http` server on loopback that
 * answers every request with one fixed token JSON, of the same byte length and with the same headers as the
 * broker's answer, after reading the request body. Started by bench/run.ts in a child process of its own (the
 * same process model as the broker under test); prints `LISTENING <port>` when ready.
 *
 * Usage: node dist/bench/baseline-server.js <bodyBytes>
 * @module
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A token answer of exactly `bytes` bytes (RFC 6749 §5.1 shape), padded in the access token. */
export function fixedTokenBody(bytes: number, scope: string): string {
  const shell = { token_type: 'Bearer', access_token: '', expires_in: 3599, scope };
  const pad = Math.max(0, bytes - Buffer.byteLength(JSON.stringify(shell)));
  return JSON.stringify({ ...shell, access_token: 'x'.repeat(pad) });
}

function main(): void {
  const bytes = Number(process.argv[2] ?? '1600');
  const scope = process.argv[3] ?? 'https://outlook.office365.com/.default';
  const body = Buffer.from(fixedTokenBody(bytes, scope));
  const headers = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
    pragma: 'no-cache',
    'content-length': String(body.length),
  };
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, headers).end(body));
  });
  server.listen(0, '127.0.0.1', () => {
    console.log(`LISTENING ${(server.address() as AddressInfo).port}`);
  });
  process.once('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}

main();
