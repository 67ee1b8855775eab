import type { Logger } from 'pino';
import type { Commands } from '../commands/index.js';
import type { ReadContext } from '../projections/queries/context.js';
import type { ProjectionWaiter } from '../projections/waiter.js';
import type { EventStore } from '../infra/event-store/port.js';
import type { PubSub } from '../infra/pubsub/port.js';
import type { TokenService } from './auth/tokens.js';
import type { Delivery } from './delivery.js';
import type { Presence } from './presence.js';
import type { RateLimits } from './rate-limits.js';
import type { Typing } from './typing.js';

/** What the HTTP and WebSocket edge needs; the composition root builds it. */
export interface ApiDeps {
  commands: Commands;
  read: ReadContext;
  /** Read for what a resuming socket missed (ws/resume.ts). */
  eventStore: Pick<EventStore, 'readStream'>;
  waiter: ProjectionWaiter;
  tokens: TokenService;
  bus: PubSub;
  /** Ephemeral state, the same for REST and WebSocket: one instance per process owns its timers. */
  typing: Typing;
  presence: Presence;
  /** Offline delivery: a connecting member gets what was queued for them. */
  delivery: Pick<Delivery, 'deliverPending'>;
  logger: Logger;
  /** How long a write waits for the read models before it answers. */
  projectionWaitMs: number;
  /** Each backend's name and whether it answers, for /ready. */
  readiness: () => Promise<Record<string, boolean>>;
  /** Browser origins allowed to open the WebSocket; empty allows any (development). */
  allowedOrigins: string[];
  /** Reverse proxies whose X-Forwarded-For names the client (addresses, CIDR ranges); empty believes none. */
  trustedProxies: string[];
  rateLimits: RateLimits;
  /** A socket whose frames not yet sent pass this many bytes is closed as too slow. */
  wsMaxBufferedBytes: number;
  /** A socket resuming with more missed message events than this is told to resync over REST instead. */
  wsResumeMaxEvents: number;
}
