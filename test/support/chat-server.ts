/** For a whole end-to-end file: a server, users registered on it, and sockets that close with it. */
import { afterAll, beforeAll } from 'vitest';
import type { ServerOptions } from '../../src/cli/compose.js';
import { ChatSocket, registerUser, type TestUser } from './client.js';
import { startTestServer, type TestServer } from './server.js';

export interface ChatServerFile {
  server: TestServer;
  /** One per name, in order. */
  users: TestUser[];
  /** A socket of `user`, closed after the file. */
  open(user: TestUser): Promise<ChatSocket>;
}

export function useChatServer(names: string[], use: (file: ChatServerFile) => void, options: ServerOptions = {}): void {
  let server: TestServer | undefined;
  const sockets: ChatSocket[] = [];
  beforeAll(async () => {
    const started = (server = await startTestServer(options));
    const users = await Promise.all(names.map((name) => registerUser(started.url, name)));
    const open = async (user: TestUser) => {
      const socket = await ChatSocket.open(started.wsUrl, user.token);
      sockets.push(socket);
      return socket;
    };
    use({ server: started, users, open });
  });
  afterAll(async () => {
    sockets.forEach((s) => s.close());
    await server?.stop();
  });
}
