/**
 * A TCP proxy on loopback in front of a stand-in, so that a test can cut the connection to it (and restore
 * it) without stopping the stand-in: Azurite must not be killed, or it loses its unsaved writes (FACTS.md §10).
 * @module
 */
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  readonly port: number;
  /** Closes every connection and refuses new ones. */
  cut(): Promise<void>;
  /** Accepts connections again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const make = (): Server =>
    createServer((client) => {
      const upstream = createConnection({ port: targetPort, host: targetHost });
      sockets.add(client).add(upstream);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        sockets.delete(client);
        sockets.delete(upstream);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream).pipe(client);
    });
  let server = make();
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  const port = await listen(0);
  const cut = async () => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (server.listening) await new Promise<void>((r) => server.close(() => r()));
  };
  return {
    port,
    cut,
    restore: async () => {
      if (server.listening) return;
      server = make();
      await listen(port);
    },
    close: cut,
  };
}
