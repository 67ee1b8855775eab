/**
 * Checks once, before any test, that the backends the full profile needs answer. Under CI=true a missing backend
 * fails the run: nothing may skip silently there.
 */
import net from 'node:net';

const services = [
  { name: 'PostgreSQL', host: '127.0.0.1', port: 5432 },
  { name: 'MariaDB', host: '127.0.0.1', port: 3306 },
  { name: 'Redis', host: '127.0.0.1', port: 6379 },
];

function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 2000 });
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

export default async function setup(): Promise<void> {
  // Every vitest project runs the global setup; they share this process, so one check (and one banner) serves all.
  if (process.env.MIRROR_BACKENDS_CHECKED) return;
  process.env.MIRROR_BACKENDS_CHECKED = '1';
  const down = [];
  for (const s of services) if (!(await reachable(s.host, s.port))) down.push(`${s.name} on ${s.host}:${s.port}`);
  if (down.length > 0) {
    throw new Error(`Backends not reachable: ${down.join(', ')}. Start them (bash .ci/run does) and run the tests again.`);
  }
  if (!process.env.EVENTSTORE_URL) {
    console.warn(
      '\n*** EventStoreDB contract suite NOT RUN: EVENTSTORE_URL is not set (no EventStoreDB reachable). ' +
        'Run `docker compose up -d eventstore` and `EVENTSTORE_URL=esdb://127.0.0.1:2113?tls=false npm test` to run it. ***\n',
    );
  }
}
