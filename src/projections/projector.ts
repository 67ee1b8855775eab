/**
 * The projector: follows the event store's global log and keeps the read models and their checkpoints in step, in
 * one SQL transaction per batch, then tells the bus. One process at a time runs it (the "projector" lock), so
 * broadcasts leave in global log order; the checkpoint fence makes a former holder that has not yet noticed its lost
 * lease harmless. See ARCHITECTURE.md, "Reads". A rebuild (rebuild.ts) runs the same batches into shadow tables.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import type { GroupEvent } from '../domain/groups.js';
import type { MessageSent } from '../domain/messages.js';
import type { UserEvent } from '../domain/users.js';
import { openEvent } from '../infra/crypto/event-sealing.js';
import { KeyShreddedError, type GroupEncryptionManager } from '../infra/crypto/group-encryption-manager.js';
import type { EventStore, RecordedEvent } from '../infra/event-store/port.js';
import { subscribeToAll } from '../infra/event-store/subscribe.js';
import type { LeaderLock, Lease } from '../infra/locks/port.js';
import type { PubSub } from '../infra/pubsub/port.js';
import { isUniqueViolation } from '../infra/sql/dialect.js';
import { BROADCAST_CHANNEL, encodeBroadcasts, type Broadcast } from './broadcasts.js';
import { deliveryProjection } from './delivery.js';
import { groupsProjection } from './groups.js';
import { mentionsProjection } from './mentions.js';
import { messagesProjection } from './messages.js';
import { pinsProjection } from './pins.js';
import { preferencesProjection } from './preferences.js';
import { reactionsProjection } from './reactions.js';
import { readsProjection } from './reads.js';
import { searchProjection } from './search.js';
import { recordStreamRevisions, trackStreamRevisions } from './stream-revisions.js';
import type { ReadDb, ReadModels, ReadTransaction } from './schema.js';
import { usersProjection } from './users.js';

/** Carries the position the read models have reached after each commit; waiter.ts listens. */
export const CHECKPOINT_CHANNEL = 'projector:checkpoint';
/** Held by whoever writes the live read models: a server's projector, or a `projections` command that took over. */
const PROJECTOR_LOCK = 'projector';
/** Tells the projectors of every process to leave the lock alone for a while ('yield'), or that they may take it ('resume'). */
const CONTROL_CHANNEL = 'projector:control';
/** How long a projector asked to yield stays away from the lock unless told to resume: past it, a taker that died is presumed gone. */
const YIELD_MS = 30_000;

/**
 * An event of a group whose keys were destroyed (`mirror-chat keys shred`): it can no longer be opened, and projects
 * to nothing, so the log goes on past it.
 */
export interface ShreddedEvent {
  type: 'Shredded';
  data: Record<string, never>;
}

/** Events of other streams or of types added later reach projections too; they ignore what they do not know. */
export type ChatEvent = UserEvent | GroupEvent | ShreddedEvent;

export interface ProjectedEvent {
  event: ChatEvent;
  streamId: string;
  /** The event's place in its stream. */
  revision: number;
  position: string;
}

export interface ProjectionContext {
  crypto: GroupEncryptionManager;
  /** Which of these users have a live connection now (delivery.ts); absent where nobody can be told (rebuilds). */
  connected?: (userIds: number[]) => Promise<Set<number>>;
  /** Senders' names met so far, kept by the batch projector (usernames never change): a send's broadcast needs its sender's. */
  usernames: Map<number, string>;
}

/** Usernames kept at most, by a batch projector: past it the memory starts again. */
const REMEMBERED_USERNAMES = 10_000;

export type ProjectedSend = ProjectedEvent & { event: MessageSent };

export type ReadTable = keyof ReadModels;

/**
 * One read model. `apply` runs inside the batch's transaction and must use only `trx` (on PGlite the outer
 * database would wait for the very connection the transaction holds). It returns what to broadcast once the batch
 * has committed. Applying an event twice must change nothing; the checkpoint prevents it, cheap checks make sure.
 */
export interface Projection {
  /** Its checkpoint row's key. */
  name: string;
  /**
   * The tables it writes, and those it only reads (for its broadcasts too). A rebuild of it replays, with it, every
   * projection that writes a table it uses, so that each event meets the rows it met the first time (rebuild.ts).
   * Null for a projection whose rows hold more than the events say (what was delivered): it is never rebuilt.
   */
  tables: { writes: readonly ReadTable[]; reads?: readonly ReadTable[] } | null;
  apply(trx: ReadTransaction, event: ProjectedEvent, ctx: ProjectionContext): Promise<Broadcast[]>;
  /**
   * A run of consecutive sends in one go, with a statement per run rather than per send: sends are most of any log,
   * and statements, each a round trip, are what bounds projection. Optional: without it each send goes to `apply`.
   */
  applySends?(trx: ReadTransaction, sends: ProjectedSend[], ctx: ProjectionContext): Promise<Broadcast[]>;
}

/**
 * Each event goes through them in this order: messages name their senders, so users come first; reads and mentions
 * count over the member and message rows the groups and messages projections have written for the same event.
 * A run of sends goes through them as one: within it, what a projection writes for one send is never what another
 * reads for a later one (a send touches only its own new message, and no member joins or leaves inside the run),
 * so the outcome is the same as send by send.
 */
export const projections: readonly Projection[] = [
  usersProjection,
  groupsProjection,
  messagesProjection,
  searchProjection,
  reactionsProjection,
  pinsProjection,
  readsProjection,
  mentionsProjection,
  preferencesProjection,
  deliveryProjection,
];

type LogFn = (fields: Record<string, unknown>, message: string) => void;
export interface ProjectorLogger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

export interface ProjectorDeps {
  db: Kysely<any>;
  eventStore: EventStore;
  crypto: GroupEncryptionManager;
  bus: PubSub;
  lock: LeaderLock;
  logger: ProjectorLogger;
  connected?: ProjectionContext['connected'];
  batchSize?: number;
  /** Pause before trying the lock again, and before retrying a failed batch. */
  retryMs?: number;
}

export interface Projector {
  /** Finishes the batch in progress, releases the lock and stops. */
  stop(): Promise<void>;
}

/** The start of the log, as a checkpoint. */
const START = '';
const DEFAULT_BATCH_SIZE = 500;
/**
 * How long the projector lets events gather after a batch of several events that was not full. A batch costs the read models a
 * transaction of about ten statements however few events it holds; under load, waiting a few milliseconds turns many
 * small batches into a few larger ones, and leaves the databases' cores to the rest of the server.
 */
const GATHER_MS = 5;
const DEFAULT_RETRY_MS = 1500;

export function startProjector(deps: ProjectorDeps): Projector {
  const { bus, lock, logger, retryMs = DEFAULT_RETRY_MS } = deps;
  let stopping = false;
  let wake: (() => void) | undefined;
  let resolveStop!: () => void;
  const stopRequested = new Promise<void>((resolve) => (resolveStop = resolve));
  /** Set by a `projections` command taking over (takeOverProjection): no leading before then. */
  let yieldedUntil = 0;
  let handOver: (() => void) | undefined;

  // Without the bus nobody can ask this projector to yield, and a command waiting to take over says so.
  const control = bus
    .subscribe(CONTROL_CHANNEL, (message) => {
      if (message === 'yield') {
        yieldedUntil = Date.now() + YIELD_MS;
        handOver?.();
      } else if (message === 'resume') {
        yieldedUntil = 0;
        wake?.();
      }
    })
    .catch((error: unknown) => {
      logger.warn({ err: error }, 'projector: not listening for take-overs; the bus is unreachable');
      return async () => {};
    });

  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const run = async () => {
    while (!stopping) {
      const away = yieldedUntil - Date.now();
      if (away > 0) {
        await pause(away);
        continue;
      }
      let lease: Lease | null = null;
      try {
        lease = await lock.tryAcquire(PROJECTOR_LOCK);
      } catch (error) {
        logger.warn({ err: error }, 'projector: the lock is unreachable; trying again');
      }
      if (lease) {
        const yielded = new Promise<string>((resolve) => (handOver = () => resolve('asked to yield')));
        try {
          if (!stopping) await lead(deps, lease, Promise.race([stopRequested.then(() => 'stopping'), yielded]));
        } catch (error) {
          logger.error({ err: error }, 'projector: leading failed; trying again');
        } finally {
          handOver = undefined;
          await lease.release();
        }
      }
      if (!stopping) await pause(retryMs);
    }
  };
  const running = run();

  return {
    async stop() {
      stopping = true;
      resolveStop();
      wake?.();
      await running;
      await (await control)();
    },
  };
}

/**
 * Takes the projector lock over for a `projections` command: asks the projectors of every process to yield, and
 * waits until the one leading has finished its batch and let go. While the command holds it the live read models
 * stand still (the API keeps serving them); `release` hands the lock back and wakes the projectors.
 */
export async function takeOverProjection(bus: PubSub, lock: LeaderLock, timeoutMs = YIELD_MS): Promise<{ release(): Promise<void> }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    // Again on every try: the bus may drop a message, and a projector that starts meanwhile must hear it too.
    await bus.publish(CONTROL_CHANNEL, 'yield');
    const lease = await lock.tryAcquire(PROJECTOR_LOCK);
    if (lease) {
      return {
        async release() {
          await lease.release();
          await bus.publish(CONTROL_CHANNEL, 'resume');
        },
      };
    }
    if (Date.now() > deadline) {
      throw new Error(`The projector did not hand over its lock within ${timeoutMs / 1000} s: is the bus (Redis) reachable from every server?`);
    }
    await sleep(200);
  }
}

/** Someone else has moved a checkpoint: this process is no longer the projector. */
export class FencedOut extends Error {}

/**
 * An event that could not be opened or applied, with where it sits in the log and in its batch; or, when a run of
 * sends failed as a whole, the run's first event and its length.
 */
export class EventFailure extends Error {
  constructor(
    readonly recorded: RecordedEvent,
    readonly index: number,
    readonly projection: string | null,
    override readonly cause: unknown,
    readonly count = 1,
  ) {
    super(`projecting ${recorded.streamId}@${recorded.revision} failed`);
  }
}

const isSend = (e: ProjectedEvent): e is ProjectedSend => e.event.type === 'MessageSent';

/** The batch cut into runs: consecutive sends together, every other event on its own. */
function runsOf(events: ProjectedEvent[]): ProjectedEvent[][] {
  const runs: ProjectedEvent[][] = [];
  for (const event of events) {
    const last = runs[runs.length - 1];
    if (last && isSend(event) && isSend(last[0]!)) last.push(event);
    else runs.push([event]);
  }
  return runs;
}

/** Applies one run (of `runsOf`) to one projection. */
async function applyRun(trx: ReadTransaction, projection: Projection, run: ProjectedEvent[], ctx: ProjectionContext): Promise<Broadcast[]> {
  if (projection.applySends && run.every(isSend)) return projection.applySends(trx, run, ctx);
  const out: Broadcast[] = [];
  for (const event of run) out.push(...(await projection.apply(trx, event, ctx)));
  return out;
}

/** Where projections write: the live read models, or a rebuild's shadow tables under the same names (rebuild.ts). */
export interface ProjectionTarget {
  db: ReadDb;
  projections: readonly Projection[];
  ctx: Omit<ProjectionContext, 'usernames'>;
}

export interface BatchProjector {
  /** Each projection's checkpoint as of the last commit. */
  checkpoints(): ReadonlyMap<string, string>;
  /**
   * Projects a batch of the log, in log order, in one transaction that moves the checkpoints of the projections it
   * reaches with their rows. Throws EventFailure naming the first event that failed, once the events before it are
   * committed on their own; or FencedOut when another writer moved a checkpoint.
   */
  project(events: RecordedEvent[]): Promise<void>;
}

/** `committed` hears, after each commit, what to broadcast and the position the transaction reached. */
export async function batchProjector(target: ProjectionTarget, committed: (broadcasts: Broadcast[], position: string) => void): Promise<BatchProjector> {
  const { db } = target;
  const ctx: ProjectionContext = { ...target.ctx, usernames: new Map() };
  let checkpoints = await loadCheckpoints(db, target.projections);

  const openAll = async (events: RecordedEvent[]) => {
    const opened: ProjectedEvent[] = [];
    for (const [index, recorded] of events.entries()) {
      try {
        // Before the transaction, on purpose: opening loads the group's key into the cache, so sealing inside the
        // transaction never reaches the key store (on PGlite that would wait for the connection the transaction holds).
        const event = await openEvent<ChatEvent>(ctx.crypto, recorded).catch((error: unknown) => {
          if (error instanceof KeyShreddedError) return { type: 'Shredded', data: {} } satisfies ShreddedEvent;
          throw error;
        });
        opened.push({ event, streamId: recorded.streamId, revision: recorded.revision, position: recorded.position });
      } catch (error) {
        throw new EventFailure(recorded, index, null, error);
      }
    }
    return opened;
  };

  const apply = async (events: RecordedEvent[]) => {
    const last = events[events.length - 1]!.position;
    const behind = [...checkpoints].filter(([, position]) => position < last);
    if (behind.length === 0) return;
    const opened = await openAll(events);
    const broadcasts = await db.transaction().execute(async (trx) => {
      // Fencing first: a competing projector blocks here on the row lock instead of doing work it must undo.
      const byPosition = new Map<string, string[]>();
      for (const [name, position] of behind) byPosition.set(position, [...(byPosition.get(position) ?? []), name]);
      for (const [from, names] of byPosition) await advanceCheckpoints(trx, names, from, last);
      trackStreamRevisions(trx, target.projections.map((p) => p.name));
      const out: Broadcast[] = [];
      let index = 0;
      for (const run of runsOf(opened)) {
        for (const projection of target.projections) {
          const due = run.filter((event) => event.position > checkpoints.get(projection.name)!);
          if (due.length === 0) continue;
          try {
            out.push(...(await applyRun(trx, projection, due, ctx)));
          } catch (error) {
            const first = index + run.length - due.length;
            throw new EventFailure(events[first]!, first, projection.name, error, due.length);
          }
        }
        index += run.length;
      }
      await recordStreamRevisions(trx);
      return out;
    });
    checkpoints = new Map([...checkpoints].map(([name, position]) => [name, position < last ? last : position]));
    if (ctx.usernames.size > REMEMBERED_USERNAMES) ctx.usernames.clear();
    committed(broadcasts, last);
  };

  /**
   * After a failure, the events before the failing one are committed on their own, so one bad event holds back
   * only itself and what follows it; the log then offers the batch again and the committed part is skipped.
   * A run that failed as a whole is tried one event at a time, to name the event at fault.
   */
  const project = async (events: RecordedEvent[]): Promise<void> => {
    try {
      await apply(events);
    } catch (error) {
      if (!(error instanceof EventFailure)) throw error;
      if (error.index > 0) await project(events.slice(0, error.index));
      if (error.count > 1) for (const event of events.slice(error.index, error.index + error.count)) await project([event]);
      throw error;
    }
  };

  return { checkpoints: () => checkpoints, project };
}

/** Where reading the log resumes for these checkpoints: after the lowest, or from the start (null). */
export function resumeAfter(checkpoints: ReadonlyMap<string, string>): string | null {
  const from = lowest([...checkpoints.values()]);
  return from === START ? null : from;
}

/**
 * Broadcasts after each commit, then the position reached. At most once, like the bus itself: the batch is
 * committed, and clients resync from the read models. Chained rather than awaited, so that batches go out in order
 * while an unreachable bus holds up only the broadcasts, not the read models.
 */
export function broadcastPublisher(bus: PubSub, crypto: GroupEncryptionManager, logger: Pick<ProjectorLogger, 'warn'>) {
  let publishing = Promise.resolve();
  return {
    publish(broadcasts: Broadcast[], position: string) {
      publishing = publishing.then(async () => {
        try {
          if (broadcasts.length > 0) await bus.publish(BROADCAST_CHANNEL, await encodeBroadcasts(crypto, broadcasts));
          await bus.publish(CHECKPOINT_CHANNEL, position);
        } catch (error) {
          logger.warn({ err: error, position, broadcasts: broadcasts.length }, 'projector: broadcasts lost');
        }
      });
    },
    /** Resolves once everything published so far has gone out (or been given up). */
    flushed: () => publishing,
  };
}

/** Projects for as long as the lease holds, nobody fences this process out, and `until` has not resolved (to its reason). */
async function lead(deps: ProjectorDeps, lease: Lease, until: Promise<string>): Promise<void> {
  const { db, eventStore, crypto, bus, logger, connected, batchSize = DEFAULT_BATCH_SIZE, retryMs = DEFAULT_RETRY_MS } = deps;
  const publisher = broadcastPublisher(bus, crypto, logger);
  const batches = await batchProjector({ db: db as ReadDb, projections, ctx: { crypto, connected } }, publisher.publish);
  logger.info({ checkpoints: Object.fromEntries(batches.checkpoints()) }, 'projector: leading');

  let resolveFenced!: () => void;
  const fenced = new Promise<void>((resolve) => (resolveFenced = resolve));
  let active = true;

  const subscription = subscribeToAll(eventStore, {
    after: resumeAfter(batches.checkpoints()),
    batchSize,
    retryMs,
    gatherMs: GATHER_MS,
    onBatch: async (events) => {
      if (!active) return;
      try {
        await batches.project(events);
      } catch (error) {
        if (!(error instanceof FencedOut)) throw error;
        active = false;
        resolveFenced();
      }
    },
    onError: (error) => logFailure(logger, error),
  });

  const reason = await Promise.race([lease.lost.then(() => 'lease lost'), fenced.then(() => 'another projector moved the checkpoint'), until]);
  active = false;
  await subscription.stop();
  await publisher.flushed();
  logger.info({ reason }, 'projector: no longer leading');
}

function logFailure(logger: ProjectorLogger, error: unknown): void {
  if (error instanceof EventFailure) {
    const { recorded, projection } = error;
    logger.error(
      {
        err: error.cause,
        stream: recorded.streamId,
        revision: recorded.revision,
        position: recorded.position,
        eventType: recorded.type,
        projection,
      },
      'projector: an event failed to project; retrying it',
    );
  } else {
    logger.error({ err: error }, 'projector: a batch failed; retrying it');
  }
}

/** The checkpoints of `of`, creating the rows of projections that have none yet. */
async function loadCheckpoints(db: ReadDb, of: readonly Projection[]): Promise<Map<string, string>> {
  const names = of.map((p) => p.name);
  const read = async () => {
    const rows = await db.selectFrom('mirror_projection_checkpoints').select(['projection', 'position']).where('projection', 'in', names).execute();
    return new Map(rows.map((r) => [r.projection, r.position]));
  };
  const stored = await read();
  const missing = names.filter((name) => !stored.has(name));
  if (missing.length === 0) return stored;
  try {
    await db
      .insertInto('mirror_projection_checkpoints')
      .values(missing.map((name) => ({ projection: name, position: START, updated_at: new Date() })))
      .execute();
  } catch (error) {
    // A projector that lost its lease a moment ago may have inserted them: what counts is that they exist.
    if (!isUniqueViolation(error)) throw error;
  }
  return read();
}

/** Moves the checkpoints of `names`, all at `from`, to `to`: one statement however many projections (usually all). */
async function advanceCheckpoints(trx: ReadTransaction, names: string[], from: string, to: string): Promise<void> {
  const result = await trx
    .updateTable('mirror_projection_checkpoints')
    .set({ position: to, updated_at: new Date() })
    .where('projection', 'in', names)
    .where('position', '=', from)
    .executeTakeFirst();
  if (result.numUpdatedRows !== BigInt(names.length)) throw new FencedOut();
}

/** Positions order as strings (see the event store port). */
const lowest = (positions: string[]) => positions.reduce((a, b) => (b < a ? b : a));

/**
 * How far every read model has got: the lowest checkpoint of the projections (a position, or '' before the first
 * event). Everything at or before it is visible to queries.
 */
export async function projectedPosition(db: Kysely<any>): Promise<string> {
  const rows = await (db as ReadDb)
    .selectFrom('mirror_projection_checkpoints')
    .select('position')
    .where(
      'projection',
      'in',
      projections.map((p) => p.name),
    )
    .execute();
  // A projection without a row has projected nothing yet.
  if (rows.length < projections.length) return START;
  return lowest(rows.map((r) => r.position));
}
