/**
 * Hot state that is not worth an event: typing flags and who is connected. It lives in Redis (several server
 * processes share it) or in process memory (embedded profile), and everything in it may expire or be lost; what
 * must survive a restart (a user's last status and lastSeen) is also written to the read models by the caller.
 */

/** The guide's PresenceStatus. */
export const presenceStatuses = ['online', 'away', 'busy', 'offline'] as const;
export type PresenceStatus = (typeof presenceStatuses)[number];

export interface UserPresence {
  userId: number;
  status: PresenceStatus;
  lastSeen: Date;
  /** When the status last changed; strictly increasing per user, so writers elsewhere can drop stale copies. */
  changedAt: Date;
}

export interface ConnectionRef {
  userId: number;
  /** Unique across processes. */
  connectionId: string;
}

export interface EphemeralStore {
  /** Sets `key` to `value` for `ttlMs`; answers the value it replaced, or null when there was none (or it expired). */
  swap(key: string, value: string, ttlMs: number): Promise<string | null>;
  /** Deletes `key` if it holds `expected` (any value when omitted); answers whether it deleted something. */
  remove(key: string, expected?: string): Promise<boolean>;

  /**
   * Each connection counts as live for `ttlMs` from now (call again before then to keep it). Answers the users who
   * were absent — no live connection, nor one closed within its grace — and so come online.
   */
  keepAlive(connections: ConnectionRef[], ttlMs: number): Promise<UserPresence[]>;
  /** The connection closed; it still counts for `graceMs`, so a page reload that reconnects in time changes nothing. */
  disconnect(connection: ConnectionRef, graceMs: number): Promise<void>;
  /**
   * The status the user chose. A user without a live connection counts as present for `leaseMs` (a REST-only
   * client), unless the status is offline. `changed` is false when the status already was that one.
   */
  setStatus(userId: number, status: PresenceStatus, leaseMs: number): Promise<{ presence: UserPresence; changed: boolean }>;
  /**
   * Users whose connections have all lapsed (closed past their grace, or left behind by a crashed process) go
   * offline, at most `limit` of them per call. Each change is answered once, to one caller, whichever process asks.
   */
  sweep(limit: number): Promise<UserPresence[]>;
  /** What the store knows of these users; those it does not know are missing from the map. */
  presenceOf(userIds: number[]): Promise<Map<number, UserPresence>>;

  /** Resolves when the store answers; for /ready. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
