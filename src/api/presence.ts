/**
 * Presence (the guide's chat:presence and /presence). The ephemeral store decides who is present across every
 * process: a user's first connection brings them online, and once their last one has closed (or lapsed with a
 * crashed process) for the grace period, a sweep — run by every process, answered to one — takes them offline.
 * Each change is copied to the read models, so a user's last status and lastSeen survive restarts, and announced
 * to every group the user is in.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { EphemeralStore, PresenceStatus, UserPresence } from '../infra/ephemeral/port.js';
import { savePresence } from '../projections/presence.js';
import type { ReadContext } from '../projections/queries/context.js';
import { listGroupsOf } from '../projections/queries/groups.js';
import { storedPresenceOfMembers } from '../projections/queries/presence.js';
import type { Broadcaster } from './broadcaster.js';
import { requireMember } from './routes/access.js';

/** Long enough that a page reload does not show the user leaving and coming back. */
export const PRESENCE_GRACE_MS = 10_000;
/** A crashed process's connections lapse after this; this process refreshes its own well before. */
const CONNECTION_TTL_MS = 60_000;
const HEARTBEAT_MS = CONNECTION_TTL_MS / 3;
const SWEEP_BATCH = 100;
const KEEP_ALIVE_BATCH = 500;

/** One member's entry in GET /presence; `lastSeen` is null for a member never seen. */
export interface MemberPresence {
  userId: number;
  status: PresenceStatus;
  lastSeen: string | null;
}

export interface PresenceDeps {
  ephemeral: EphemeralStore;
  read: ReadContext;
  broadcast: Broadcaster;
  logger: Logger;
}

const entry = (p: UserPresence): MemberPresence => ({ userId: p.userId, status: p.status, lastSeen: p.lastSeen.toISOString() });

export function createPresence(deps: PresenceDeps, options: { graceMs?: number } = {}) {
  const { ephemeral, read, broadcast, logger } = deps;
  const graceMs = options.graceMs ?? PRESENCE_GRACE_MS;
  /** This process's sockets, and the keepAlive that registered each (a close must not overtake it). */
  const local = new Map<string, { userId: number; registered: Promise<void> }>();
  /** Background work, awaited on close. */
  const pending = new Set<Promise<void>>();
  let heartbeat: Promise<void> = Promise.resolve();
  /** The last announcement of each user in flight: one user's changes go out in the order the store made them. */
  const announcing = new Map<number, Promise<void>>();

  const inBackground = (what: string, work: Promise<unknown>) => {
    const done = work.then(
      () => {},
      (err: unknown) => logger.warn({ err }, `presence: ${what} failed`),
    );
    pending.add(done);
    void done.then(() => pending.delete(done));
    return done;
  };

  const publish = async (p: UserPresence) => {
    await savePresence(read, p);
    const payload = { userId: p.userId, status: p.status, lastSeen: p.lastSeen.toISOString() };
    const groups = await listGroupsOf(read, p.userId);
    await broadcast(groups.map((g) => ({ kind: 'group', groupId: g.id, frame: { type: 'chat:presence', payload: { groupId: g.id, ...payload } } })));
  };

  const announce = (changes: UserPresence[]) =>
    Promise.all(
      changes.map((p) => {
        const next = (announcing.get(p.userId) ?? Promise.resolve()).then(() => publish(p));
        const settled = next.catch(() => {});
        announcing.set(p.userId, settled);
        void settled.then(() => announcing.get(p.userId) === settled && announcing.delete(p.userId));
        return next;
      }),
    );

  const refresh = async () => {
    const refs = [...local].map(([connectionId, { userId }]) => ({ userId, connectionId }));
    for (let i = 0; i < refs.length; i += KEEP_ALIVE_BATCH) {
      await announce(await ephemeral.keepAlive(refs.slice(i, i + KEEP_ALIVE_BATCH), CONNECTION_TTL_MS));
    }
  };

  let sweeping = false;
  const sweep = async () => {
    if (sweeping) return;
    sweeping = true;
    try {
      let gone: UserPresence[];
      do {
        gone = await ephemeral.sweep(SWEEP_BATCH);
        await announce(gone);
      } while (gone.length === SWEEP_BATCH);
    } finally {
      sweeping = false;
    }
  };

  // A user goes offline at most one sweep interval later than the grace says.
  const sweepTimer = setInterval(() => void inBackground('sweep', sweep()), Math.min(graceMs / 2, 2000));
  const heartbeatTimer = setInterval(() => (heartbeat = inBackground('heartbeat', refresh())), HEARTBEAT_MS);
  sweepTimer.unref();
  heartbeatTimer.unref();

  const disconnected = (connectionId: string) => {
    const connection = local.get(connectionId);
    if (!connection) return;
    local.delete(connectionId);
    const { userId, registered } = connection;
    void inBackground(
      'disconnect',
      (async () => {
        // A heartbeat that listed this socket before it closed would otherwise renew it after the close.
        await Promise.all([registered, heartbeat]);
        await ephemeral.disconnect({ userId, connectionId }, graceMs);
      })(),
    );
  };

  return {
    /** A socket of `userId` opened; answers the id that `disconnected` takes. */
    connected(userId: number): string {
      const connectionId = randomUUID();
      const registered = inBackground('connect', ephemeral.keepAlive([{ userId, connectionId }], CONNECTION_TTL_MS).then(announce));
      local.set(connectionId, { userId, registered });
      return connectionId;
    },

    disconnected,

    /** The status the user chose (PUT /presence, chat:presence_update); presence is the user's, in every group. */
    async setStatus(groupId: string, userId: number, status: PresenceStatus): Promise<MemberPresence> {
      await requireMember(read, groupId, userId);
      const { presence, changed } = await ephemeral.setStatus(userId, status, CONNECTION_TTL_MS);
      if (changed) await announce([presence]);
      return entry(presence);
    },

    /**
     * Every member of the group. The store knows everyone present; a member it does not know is offline, with the
     * lastSeen the read models kept (null if never seen).
     */
    async ofGroup(groupId: string, userId: number): Promise<MemberPresence[]> {
      await requireMember(read, groupId, userId);
      const stored = await storedPresenceOfMembers(read, groupId);
      const live = await ephemeral.presenceOf(stored.map((s) => s.userId));
      return stored.map((s) => {
        const known = live.get(s.userId);
        return known ? entry(known) : { userId: s.userId, status: 'offline', lastSeen: s.lastSeen?.toISOString() ?? null };
      });
    },

    /** This process's sockets are closing: their users go offline after the grace unless they reconnect elsewhere. */
    async close(): Promise<void> {
      clearInterval(sweepTimer);
      clearInterval(heartbeatTimer);
      for (const connectionId of [...local.keys()]) disconnected(connectionId);
      while (pending.size > 0) await Promise.all(pending);
    },
  };
}

export type Presence = ReturnType<typeof createPresence>;
