/**
 * The server's configuration: parsed once from the environment, typed, and passed down. Nothing else reads
 * `process.env`. Unset backends fall back to the embedded profile.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

const optionalUrl = (protocols: string[]) =>
  z
    .string()
    .trim()
    .optional()
    .transform((v) => (v ? v : undefined))
    .refine((v) => v === undefined || protocols.some((p) => v.startsWith(p)), {
      message: `must start with ${protocols.join(' or ')}`,
    });

const csv = z
  .string()
  .optional()
  .transform((v) => (v ? v.split(',').map((s) => s.trim()).filter(Boolean) : []));

const isOrigin = (v: string) => URL.canParse(v) && new URL(v).origin === v;

const PROXY_RANGE_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
/** An address, a CIDR range (`10.0.0.0/8`), or one of the named ranges Fastify's trustProxy knows. */
const isProxyAddress = (v: string) => {
  if (PROXY_RANGE_NAMES.includes(v)) return true;
  const [address = '', bits, ...rest] = v.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
};

const MASTER_KEY_FORMAT = 'must be 32 bytes, base64-encoded (openssl rand -base64 32)';
const isMasterKey = (v: string) => Buffer.from(v, 'base64').byteLength === 32;

export const configSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().default('./data'),
  EVENTSTORE_URL: optionalUrl(['postgres://', 'postgresql://', 'esdb://', 'esdb+discover://', 'kurrentdb://']),
  READ_DB_URL: optionalUrl(['mysql://', 'mariadb://', 'postgres://', 'postgresql://']),
  REDIS_URL: optionalUrl(['redis://', 'rediss://']),
  /** Prefix of every Redis key and channel, so several deployments can share one Redis. */
  REDIS_PREFIX: z.string().default('mirror:'),
  /** pg-boss's database for offline delivery; unset: a PostgreSQL EVENTSTORE_URL or READ_DB_URL, else PGlite. */
  QUEUE_URL: optionalUrl(['postgres://', 'postgresql://']),
  /** Where offline delivery posts (README, Offline delivery); unset: rows wait for the member to connect. */
  DELIVERY_WEBHOOK_URL: optionalUrl(['http://', 'https://']),
  /** Signs each webhook body (HMAC-SHA256, header X-Mirror-Signature) so the receiver can tell it came from here. */
  DELIVERY_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  DELIVERY_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Attempts after the first; then the row is dead and its job goes to the dead-letter queue. */
  DELIVERY_RETRY_LIMIT: z.coerce.number().int().min(0).max(20).default(5),
  /** Wait before the first retry; each later one waits twice as long as the one before, plus up to as much again. */
  DELIVERY_RETRY_DELAY_SECONDS: z.coerce.number().int().min(1).default(10),
  /** Queue rows of messages older than this are forgotten, delivered or not: a member away that long reads the history. */
  DELIVERY_RETENTION_DAYS: z.coerce.number().int().positive().default(30),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().default('mirror-chat'),
  JWT_AUDIENCE: z.string().default('mirror-chat'),
  JWT_TTL_SECONDS: z.coerce.number().int().positive().default(7 * 24 * 3600),
  MASTER_KEY: z.string().optional().refine((v) => v === undefined || isMasterKey(v), { message: MASTER_KEY_FORMAT }),
  /** Master keys replaced by `mirror-chat keys rotate-master`, kept until every server runs with the new one. */
  MASTER_KEY_PREVIOUS: csv.refine((keys) => keys.every(isMasterKey), { message: `each key ${MASTER_KEY_FORMAT}` }),
  /**
   * Browser origins (scheme://host[:port]) allowed to open the WebSocket; a listed-but-other Origin is refused at the
   * upgrade (403). Empty allows any, for development. Requests without an Origin (non-browser clients) always pass.
   */
  CORS_ORIGINS: csv.refine((origins) => origins.every(isOrigin), { message: 'each entry must be an origin such as https://chat.example.com' }),
  /**
   * The reverse proxies in front of the server, whose X-Forwarded-For names the client: the address the sign-in and
   * sign-up limits count by, and the one logged. Unset: no header is believed, and the peer is the client.
   */
  TRUST_PROXY: csv.refine((entries) => entries.every(isProxyAddress), {
    message: `each entry must be an IP address, a CIDR range, or one of ${PROXY_RANGE_NAMES.join(', ')}`,
  }),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long a REST write waits for its events to reach the read models before answering. */
  PROJECTION_WAIT_MS: z.coerce.number().int().positive().default(5000),
  /** The guide's limits, per user, shared by every process through Redis (see README, Rate limits). */
  RATE_LIMIT_HTTP_MESSAGES_PER_MIN: z.coerce.number().int().positive().default(30),
  RATE_LIMIT_WS_FRAMES_PER_SEC: z.coerce.number().int().positive().default(10),
  /** Every other REST write: edits, deletes, reactions, pins, reads, presence, preferences, groups and members. */
  RATE_LIMIT_HTTP_WRITES_PER_MIN: z.coerce.number().int().positive().default(120),
  /** Typing starts, REST and WebSocket together; far above what the guide's debounced client sends. */
  RATE_LIMIT_TYPING_STARTS_PER_MIN: z.coerce.number().int().positive().default(60),
  /** Sign-in attempts per account and client address, right or wrong: enough for a person, too few to guess a password. */
  RATE_LIMIT_LOGINS_PER_HOUR: z.coerce.number().int().positive().default(20),
  /** New accounts per client address: a team signing up together, not a script filling the user list. */
  RATE_LIMIT_REGISTRATIONS_PER_HOUR: z.coerce.number().int().positive().default(10),
  /** A socket whose frames not yet sent pass this many bytes is too slow to keep up, and is closed (4008). */
  WS_MAX_BUFFERED_BYTES: z.coerce.number().int().min(64 * 1024).default(1024 * 1024),
  /** A socket rejoining with `lastMessageId` is sent at most this many missed messages, edits and deletes; past it, resync. */
  WS_RESUME_MAX_EVENTS: z.coerce.number().int().positive().default(500),
});

export type Config = z.output<typeof configSchema>;

export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
