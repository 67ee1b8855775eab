/**
 * A TCP proxy in front of a shared backend (Redis, MariaDB, PostgreSQL) that a test can cut and restore on the same
 * port. Other test files use the same services at the same time, so a test never restarts one: it cuts its own proxy
 * instead.
 * A cut drops every connection and refuses new ones until `restore`, which is what a restart of the service looks
 * like to the process on the other side.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** `target` with its host and port replaced by the proxy's: what the process under test connects to. */
  url: string;
  /** Drops every connection through the proxy and stops listening. */
  cut(): Promise<void>;
  /** Listens again, on the same port. */
  restore(): Promise<void>;
}

const DEFAULT_PORTS: Record<string, number> = { 'redis:': 6379, 'mysql:': 3306, 'mariadb:': 3306 };

export interface TcpProxyOptions {
  /** How long a connection's server side stays open after its client has closed its own, as over a slow network. */
  lingerMs?: number;
}

export async function tcpProxy(target: string, { lingerMs = 0 }: TcpProxyOptions = {}): Promise<TcpProxy> {
  const parsed = new URL(target);
  const host = parsed.hostname;
  const port = Number(parsed.port || DEFAULT_PORTS[parsed.protocol]);
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const listen = (on: number) =>
    new Promise<number>((resolve, reject) => {
      const listening = createServer({ allowHalfOpen: true }, (client) => {
        const upstream = connect(port, host);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('error', () => {});
          s.on('close', () => (sockets.delete(s), client.destroy(), upstream.destroy()));
        }
        client.pipe(upstream, { end: false }).pipe(client);
        client.on('end', () => setTimeout(() => upstream.end(), lingerMs));
      });
      listening.once('error', reject);
      listening.listen(on, '127.0.0.1', () => {
        server = listening;
        resolve((listening.address() as { port: number }).port);
      });
    });
  const proxyPort = await listen(0);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(proxyPort);
  return {
    url: parsed.toString(),
    async cut() {
      const stopping = server;
      server = undefined;
      if (!stopping) return;
      const closed = new Promise((resolve) => stopping.close(resolve));
      for (const s of sockets) s.destroy();
      await closed;
    },
    async restore() {
      if (!server) await listen(proxyPort);
    },
  };
}
