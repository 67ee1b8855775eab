/** For a whole end-to-end file: alice, bob, carol and eve on one server, and fresh groups of the first three. */
import { useChatServer } from './chat-server.js';
import { groupWith, type ChatSocket, type TestUser } from './client.js';

export interface Cast {
  alice: TestUser;
  bob: TestUser;
  carol: TestUser;
  /** Never a member: the outsider. */
  eve: TestUser;
}

export interface Room {
  groupId: string;
  /** `/mirror/api/groups/<groupId>/chat` */
  chat: string;
  /** Sockets of alice, bob and carol that joined the group. */
  a: ChatSocket;
  b: ChatSocket;
  c: ChatSocket;
}

/** Hands the cast to `use` once the server is up; answers a maker of rooms, each a fresh group of alice, bob and carol. */
export function useRooms(use: (cast: Cast) => void): () => Promise<Room> {
  let cast: Cast;
  let open: (user: TestUser) => Promise<ChatSocket>;
  useChatServer(['alice', 'bob', 'carol', 'eve'], (file) => {
    const [alice, bob, carol, eve] = file.users as [TestUser, TestUser, TestUser, TestUser];
    cast = { alice, bob, carol, eve };
    open = file.open;
    use(cast);
  });
  return async () => {
    const { alice, bob, carol } = cast;
    const groupId = await groupWith(alice, [bob, carol]);
    const [a, b, c] = (await Promise.all([alice, bob, carol].map(open))) as [ChatSocket, ChatSocket, ChatSocket];
    for (const socket of [a, b, c]) await socket.join(groupId);
    return { groupId, chat: `/mirror/api/groups/${groupId}/chat`, a, b, c };
  };
}
