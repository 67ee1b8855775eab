import type { ConnectionRef, EphemeralStore, PresenceStatus, UserPresence } from '../port.js';

interface Stored {
  status: PresenceStatus;
  lastSeen: number;
  changedAt: number;
}

/** Stands for "seen through the API without a socket" among a user's connections (see setStatus). */
const API_LEASE = 'api-lease';

/**
 * One process's ephemeral state, for the embedded profile. Every operation runs to completion without awaiting, so
 * each is atomic as the Redis adapter's scripts are. Expired entries are dropped when next looked at.
 */
export function createMemoryEphemeralStore(now: () => number = Date.now): EphemeralStore {
  const flags = new Map<string, { value: string; expiresAt: number }>();
  /** userId → connectionId → expiry; a user stays here, maybe with none live, until a sweep has dealt with them. */
  const connections = new Map<number, Map<string, number>>();
  const users = new Map<number, Stored>();

  const liveFlag = (key: string, t: number) => {
    const flag = flags.get(key);
    if (flag && flag.expiresAt <= t) flags.delete(key);
    return flags.get(key);
  };

  const liveConnections = (userId: number, t: number) => {
    let conns = connections.get(userId);
    if (!conns) connections.set(userId, (conns = new Map()));
    for (const [id, expiresAt] of conns) if (expiresAt <= t) conns.delete(id);
    return conns;
  };

  const view = (userId: number, s: Stored): UserPresence => ({
    userId,
    status: s.status,
    lastSeen: new Date(s.lastSeen),
    changedAt: new Date(s.changedAt),
  });

  /** A user the store does not know yet counts as offline (changedAt 0 marks them unknown). */
  const seen = (userId: number, t: number): Stored => {
    const stored = users.get(userId) ?? { status: 'offline', lastSeen: t, changedAt: 0 };
    stored.lastSeen = t;
    users.set(userId, stored);
    return stored;
  };

  const change = (stored: Stored, status: PresenceStatus, t: number) => {
    stored.status = status;
    stored.changedAt = Math.max(t, stored.changedAt + 1);
  };

  return {
    async swap(key, value, ttlMs) {
      const t = now();
      const previous = liveFlag(key, t)?.value ?? null;
      flags.set(key, { value, expiresAt: t + ttlMs });
      return previous;
    },

    async remove(key, expected) {
      const flag = liveFlag(key, now());
      if (!flag || (expected !== undefined && flag.value !== expected)) return false;
      return flags.delete(key);
    },

    async keepAlive(refs: ConnectionRef[], ttlMs) {
      const t = now();
      const arrived: UserPresence[] = [];
      for (const { userId, connectionId } of refs) {
        const conns = liveConnections(userId, t);
        const present = conns.size > 0;
        conns.set(connectionId, t + ttlMs);
        const stored = seen(userId, t);
        if (present || stored.status === 'online') continue;
        change(stored, 'online', t);
        arrived.push(view(userId, stored));
      }
      return arrived;
    },

    async disconnect({ userId, connectionId }, graceMs) {
      const t = now();
      const conns = liveConnections(userId, t);
      if (!conns.has(connectionId)) return;
      conns.set(connectionId, t + graceMs);
      seen(userId, t);
    },

    async setStatus(userId, status, leaseMs) {
      const t = now();
      const conns = liveConnections(userId, t);
      if (status === 'offline') conns.delete(API_LEASE);
      else if ([...conns.keys()].every((id) => id === API_LEASE)) conns.set(API_LEASE, t + leaseMs);
      const stored = seen(userId, t);
      const changed = stored.status !== status;
      // A user the store did not know becomes known, even when the status is the offline they counted as.
      if (changed || stored.changedAt === 0) change(stored, status, t);
      return { presence: view(userId, stored), changed };
    },

    async sweep(limit) {
      const t = now();
      const departed: UserPresence[] = [];
      for (const userId of [...connections.keys()]) {
        if (departed.length >= limit) break;
        if (liveConnections(userId, t).size > 0) continue;
        connections.delete(userId);
        const stored = users.get(userId);
        if (!stored || stored.status === 'offline') continue;
        change(stored, 'offline', t);
        departed.push(view(userId, stored));
      }
      return departed;
    },

    async presenceOf(userIds) {
      const known = new Map<number, UserPresence>();
      for (const userId of userIds) {
        const stored = users.get(userId);
        if (stored && stored.changedAt > 0) known.set(userId, view(userId, stored));
      }
      return known;
    },

    async ping() {},
    async close() {
      flags.clear();
      connections.clear();
      users.clear();
    },
  };
}
