/**
 * Typing indicators (the guide's chat:typing). A typing state is a flag in the ephemeral store; the process that set
 * it last owns its expiry, TYPING_MS after the last start, and announces `isTyping: false` when it ends it. Ending
 * is a compare-and-delete of that start's own token, so a stop, a later start elsewhere, or another process's expiry
 * makes an older owner's timer a no-op, and each typing state is announced ended exactly once.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EphemeralStore } from '../infra/ephemeral/port.js';
import type { ReadContext } from '../projections/queries/context.js';
import type { Broadcaster } from './broadcaster.js';
import { requireMember } from './routes/access.js';

/** The guide's "5-second auto-expiry". */
export const TYPING_MS = 5000;

export interface Typist {
  id: number;
  username: string;
}

export interface TypingDeps {
  ephemeral: EphemeralStore;
  read: ReadContext;
  broadcast: Broadcaster;
  logger: Logger;
}

export function createTyping(deps: TypingDeps, typingMs = TYPING_MS) {
  const { ephemeral, read, broadcast, logger } = deps;
  /** The typing states this process ends, by flag key: their timers, and what ending each one does. */
  const owned = new Map<string, { timer: NodeJS.Timeout; expire: () => Promise<void> }>();
  const keyOf = (groupId: string, userId: number) => `typing:${groupId}:${userId}`;

  const announce = (groupId: string, typist: Typist, isTyping: boolean) =>
    broadcast([
      {
        kind: 'group',
        groupId,
        excludeUserId: typist.id,
        frame: { type: 'chat:typing', payload: { groupId, userId: typist.id, username: typist.username, isTyping } },
      },
    ]);

  const end = async (groupId: string, typist: Typist, token?: string) => {
    const key = keyOf(groupId, typist.id);
    if (token === undefined) {
      clearTimeout(owned.get(key)?.timer);
      owned.delete(key);
    }
    if (await ephemeral.remove(key, token)) await announce(groupId, typist, false);
  };

  return {
    /** Announces only a new typing state; a start inside the window extends it. Members only. */
    async start(groupId: string, typist: Typist): Promise<void> {
      await requireMember(read, groupId, typist.id);
      const key = keyOf(groupId, typist.id);
      const token = randomUUID();
      // The flag outlives the window so that its owner's timer always finds it; it only lapses by itself when the
      // owner is gone, and then nobody is left to announce the end (clients drop stale indicators themselves).
      const previous = await ephemeral.swap(key, token, typingMs * 2);
      const expire = () => {
        owned.delete(key);
        return end(groupId, typist, token).catch((err: unknown) => logger.warn({ err, groupId }, 'typing expiry failed'));
      };
      clearTimeout(owned.get(key)?.timer);
      owned.set(key, { timer: setTimeout(expire, typingMs), expire });
      if (previous === null) await announce(groupId, typist, true);
    },

    /** Announces the end only of a typing state there was. Members only. */
    async stop(groupId: string, typist: Typist): Promise<void> {
      await requireMember(read, groupId, typist.id);
      await end(groupId, typist);
    },

    /** The typist's message landed: the indicator goes with it. Never fails the send it follows. */
    async sent(groupId: string, typist: Typist): Promise<void> {
      await end(groupId, typist).catch((err: unknown) => logger.warn({ err, groupId }, 'ending typing after a message failed'));
    },

    /** Ends this process's typing states now rather than leave them to nobody. */
    async close(): Promise<void> {
      const pending = [...owned.values()];
      for (const { timer } of pending) clearTimeout(timer);
      await Promise.all(pending.map(({ expire }) => expire()));
    },
  };
}

export type Typing = ReturnType<typeof createTyping>;
