/**
 * The server's configuration: parsed once from the environment, typed, and passed down. Nothing else reads
 * `process.env`. Unset backends fall back to the embedded profile.
 */
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
  QUEUE_URL: optionalUrl(['postgres://', 'postgresql://']),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_ISSUER: z.string().default('mirror-chat'),
  JWT_AUDIENCE: z.string().default('mirror-chat'),
  JWT_TTL_SECONDS: z.coerce.number().int().positive().default(7 * 24 * 3600),
  MASTER_KEY: z.string().optional().refine((v) => v === undefined || isMasterKey(v), { message: MASTER_KEY_FORMAT }),
  /** Master keys replaced by `mirror-chat keys rotate-master`, kept until every server runs with the new one. */
  MASTER_KEY_PREVIOUS: csv.refine((keys) => keys.every(isMasterKey), { message: `each key ${MASTER_KEY_FORMAT}` }),
  CORS_ORIGINS: csv,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** How long a REST write waits for its events to reach the read models before answering. */
  PROJECTION_WAIT_MS: z.coerce.number().int().positive().default(5000),
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
