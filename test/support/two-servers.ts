/**
 * For a test file about growing past one process: two servers on the same fresh backends, one a child process
 * (started first, it takes the projector lock) and one in the test's process; the sockets the tests keep in the
 * returned list are closed with them.
 */
import { afterAll, beforeAll } from 'vitest';
import type { ChatSocket } from './client.js';
import { freshBackends, startTestServer, type TestBackends, type TestServer } from './server.js';
import { spawnServer, type ServerProcess } from './server-process.js';

export interface TwoServers {
  first: ServerProcess;
  second: TestServer;
}

export function useTwoServers(use: (servers: TwoServers) => void, configure: (env: Record<string, string>) => void = () => {}): ChatSocket[] {
  let backends: TestBackends | undefined;
  const servers: Partial<TwoServers> = {};
  const sockets: ChatSocket[] = [];
  beforeAll(async () => {
    backends = await freshBackends();
    configure(backends.env);
    servers.first = await spawnServer(backends.env);
    servers.second = await startTestServer({ backends });
    use(servers as TwoServers);
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await servers.first?.kill();
    await servers.second?.stop();
    await backends?.drop();
  });
  return sockets;
}
