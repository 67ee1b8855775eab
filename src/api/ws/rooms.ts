/** This process's sockets, by the groups they joined and by user, so broadcasts reach only local members. */
import type { ResumeGate } from './resume.js';

export interface ChatClient {
  userId: number;
  joined: Set<string>;
  /** Groups this socket rejoined with `lastMessageId`: how their live frames pass it (resume.ts). */
  resumes: Map<string, ResumeGate>;
  send(frame: string): void;
}

export class Rooms {
  private readonly byGroup = new Map<string, Set<ChatClient>>();
  private readonly byUser = new Map<number, Set<ChatClient>>();

  connect(client: ChatClient): void {
    add(this.byUser, client.userId, client);
  }

  disconnect(client: ChatClient): void {
    for (const groupId of client.joined) this.leave(client, groupId);
    remove(this.byUser, client.userId, client);
  }

  join(client: ChatClient, groupId: string): void {
    client.joined.add(groupId);
    add(this.byGroup, groupId, client);
  }

  leave(client: ChatClient, groupId: string): void {
    client.joined.delete(groupId);
    client.resumes.delete(groupId);
    remove(this.byGroup, groupId, client);
  }

  membersOf(groupId: string): Iterable<ChatClient> {
    return this.byGroup.get(groupId) ?? [];
  }

  clientsOf(userId: number): Iterable<ChatClient> {
    return this.byUser.get(userId) ?? [];
  }
}

function add<K>(index: Map<K, Set<ChatClient>>, key: K, client: ChatClient): void {
  let set = index.get(key);
  if (!set) index.set(key, (set = new Set()));
  set.add(client);
}

function remove<K>(index: Map<K, Set<ChatClient>>, key: K, client: ChatClient): void {
  const set = index.get(key);
  set?.delete(client);
  if (set?.size === 0) index.delete(key);
}
