import { connectRedis } from '../../redis/connect.js';
import type { ConnectionRef, EphemeralStore, PresenceStatus, UserPresence } from '../port.js';

/**
 * Ephemeral state in Redis, shared by every server process. Keys, all under `prefix`:
 * - `<key>` of swap/remove: a string with a TTL.
 * - `presence:conns:<userId>`: sorted set of the user's connections, scored by the time each lapses.
 * - `presence:user:<userId>`: hash {status, lastSeen, changedAt} (times in ms).
 * - `presence:users`: sorted set of users with connections, scored by when their last one lapses: what sweep reads.
 * Presence changes are Lua scripts, so that "was the user present?" and "now they are" cannot interleave between
 * processes; times come from the Redis server's clock, which every process shares.
 */

/** A user swept offline keeps their record this long, then only the read models remember them. */
const OFFLINE_RETENTION_MS = 24 * 3600 * 1000;
/** Stands for "seen through the API without a socket" among a user's connections (see setStatus). */
const API_LEASE = 'api-lease';

const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function reindex(index, conns, uid)
  local last = redis.call('ZRANGE', conns, -1, -1, 'WITHSCORES')
  if last[2] then
    redis.call('ZADD', index, last[2], uid)
    redis.call('PEXPIREAT', conns, last[2])
  else
    redis.call('ZADD', index, now, uid)
  end
end
local function change(h, status)
  local at = math.max(now, tonumber(redis.call('HGET', h, 'changedAt') or '0') + 1)
  redis.call('HSET', h, 'status', status, 'changedAt', at)
end
local function view(uid, h)
  local v = redis.call('HMGET', h, 'status', 'lastSeen', 'changedAt')
  return {uid, v[1], tonumber(v[2]), tonumber(v[3])}
end
`;

const SCRIPTS = {
  /** KEYS: index, then conns and hash per connection; ARGV: ttl, then userId and connectionId per connection. */
  presenceKeepAlive: `
local out = {}
for i = 2, #KEYS, 2 do
  local conns, h, uid = KEYS[i], KEYS[i + 1], ARGV[i]
  redis.call('ZREMRANGEBYSCORE', conns, '-inf', now)
  local present = redis.call('ZCARD', conns) > 0
  redis.call('ZADD', conns, now + tonumber(ARGV[1]), ARGV[i + 1])
  reindex(KEYS[1], conns, uid)
  redis.call('PERSIST', h)
  redis.call('HSET', h, 'lastSeen', now)
  if not present and redis.call('HGET', h, 'status') ~= 'online' then
    change(h, 'online')
    table.insert(out, view(uid, h))
  end
end
return out`,

  /** KEYS: index, conns, hash; ARGV: userId, connectionId, grace. */
  presenceDisconnect: `
if redis.call('ZSCORE', KEYS[2], ARGV[2]) then
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[2])
  reindex(KEYS[1], KEYS[2], ARGV[1])
  redis.call('HSET', KEYS[3], 'lastSeen', now)
end
return 0`,

  /** KEYS: index, conns, hash; ARGV: userId, status, lease, lease member. */
  presenceSetStatus: `
local conns, h, uid, status = KEYS[2], KEYS[3], ARGV[1], ARGV[2]
redis.call('ZREMRANGEBYSCORE', conns, '-inf', now)
if status == 'offline' then
  redis.call('ZREM', conns, ARGV[4])
elseif redis.call('ZCARD', conns) == (redis.call('ZSCORE', conns, ARGV[4]) and 1 or 0) then
  redis.call('ZADD', conns, now + tonumber(ARGV[3]), ARGV[4])
end
reindex(KEYS[1], conns, uid)
redis.call('PERSIST', h)
redis.call('HSET', h, 'lastSeen', now)
local changed = (redis.call('HGET', h, 'status') or 'offline') ~= status
if changed or not redis.call('HGET', h, 'changedAt') then change(h, status) end
local v = view(uid, h)
table.insert(v, changed and 1 or 0)
return v`,

  /** KEYS: index; ARGV: key prefix, limit, retention. */
  presenceSweep: `
local out = {}
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[2]))
for _, uid in ipairs(due) do
  local conns = ARGV[1] .. 'presence:conns:' .. uid
  local h = ARGV[1] .. 'presence:user:' .. uid
  redis.call('ZREMRANGEBYSCORE', conns, '-inf', now)
  if redis.call('ZCARD', conns) > 0 then
    reindex(KEYS[1], conns, uid)
  else
    redis.call('ZREM', KEYS[1], uid)
    local status = redis.call('HGET', h, 'status')
    if status and status ~= 'offline' then
      change(h, 'offline')
      table.insert(out, view(uid, h))
    end
    redis.call('PEXPIRE', h, tonumber(ARGV[3]))
  end
end
return out`,

  /** KEYS: the flag; ARGV: the value it must hold. */
  removeIfHolds: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
} as const;

type ScriptName = keyof typeof SCRIPTS;
type ViewReply = [string, PresenceStatus, number, number];

const toPresence = ([userId, status, lastSeen, changedAt]: ViewReply): UserPresence => ({
  userId: Number(userId),
  status,
  lastSeen: new Date(lastSeen),
  changedAt: new Date(changedAt),
});

export async function openRedisEphemeralStore(url: string, options: { prefix?: string } = {}): Promise<EphemeralStore> {
  const prefix = options.prefix ?? 'mirror:';
  // Commands issued in one tick (typing ends of a burst of sends, presence of many sockets) leave in one write.
  // No offline queue and no retries: while Redis is away a typing or presence command fails at once, instead of
  // holding up the send it follows, or the projector's batch asking who is connected, until Redis is back; replayed
  // later it would describe a moment already past anyway. ioredis keeps reconnecting in the background.
  const redis = await connectRedis(url, { enableAutoPipelining: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
  for (const [name, body] of Object.entries(SCRIPTS)) redis.defineCommand(name, { lua: PRELUDE + body });
  // defineCommand adds methods ioredis cannot type; EVALSHA with a fallback to EVAL, keys counted first.
  const run = (name: ScriptName, keys: string[], args: Array<string | number>) =>
    (redis as unknown as Record<ScriptName, (...a: Array<string | number>) => Promise<unknown>>)[name](keys.length, ...keys, ...args);

  const index = `${prefix}presence:users`;
  const conns = (userId: number) => `${prefix}presence:conns:${userId}`;
  const hash = (userId: number) => `${prefix}presence:user:${userId}`;

  return {
    async swap(key, value, ttlMs) {
      return redis.set(prefix + key, value, 'PX', ttlMs, 'GET');
    },

    async remove(key, expected) {
      const removed = expected === undefined ? await redis.del(prefix + key) : await run('removeIfHolds', [prefix + key], [expected]);
      return removed === 1;
    },

    async keepAlive(refs: ConnectionRef[], ttlMs) {
      if (refs.length === 0) return [];
      const keys = [index, ...refs.flatMap((r) => [conns(r.userId), hash(r.userId)])];
      const args = [ttlMs, ...refs.flatMap((r) => [r.userId, r.connectionId])];
      return ((await run('presenceKeepAlive', keys, args)) as ViewReply[]).map(toPresence);
    },

    async disconnect({ userId, connectionId }, graceMs) {
      await run('presenceDisconnect', [index, conns(userId), hash(userId)], [userId, connectionId, graceMs]);
    },

    async setStatus(userId, status, leaseMs) {
      const reply = (await run('presenceSetStatus', [index, conns(userId), hash(userId)], [userId, status, leaseMs, API_LEASE])) as [
        ...ViewReply,
        number,
      ];
      return { presence: toPresence(reply.slice(0, 4) as ViewReply), changed: reply[4] === 1 };
    },

    async sweep(limit) {
      return ((await run('presenceSweep', [index], [prefix, limit, OFFLINE_RETENTION_MS])) as ViewReply[]).map(toPresence);
    },

    async presenceOf(userIds) {
      const known = new Map<number, UserPresence>();
      if (userIds.length === 0) return known;
      const pipeline = redis.pipeline();
      for (const userId of userIds) pipeline.hmget(hash(userId), 'status', 'lastSeen', 'changedAt');
      const replies = (await pipeline.exec()) ?? [];
      replies.forEach(([error, value], i) => {
        if (error) throw error;
        const [status, lastSeen, changedAt] = value as Array<string | null>;
        if (status && lastSeen && changedAt) {
          known.set(userIds[i]!, toPresence([String(userIds[i]), status as PresenceStatus, Number(lastSeen), Number(changedAt)]));
        }
      });
      return known;
    },

    async ping() {
      await redis.ping();
    },
    async close() {
      // QUIT lets queued commands finish first; on a connection that is down it would wait for the reconnect.
      if (redis.status === 'ready') await redis.quit();
      else redis.disconnect();
    },
  };
}
