/**
 * Read models rebuilt from the log while the live ones keep serving (`mirror-chat projections rebuild | verify`): the
 * live projections' own code (projector.ts) replays every event into shadow tables (shadow-tables.ts), with
 * checkpoints of their own there, so a run that stops is resumed by the next. Once the shadow has caught up, the
 * command takes the projector lock over (the live projector pauses), replays the tail, and either swaps the shadow in
 * (rebuild) or brings the live tables to the same point and compares (verify, rebuild-compare.ts).
 */
import type { Kysely } from 'kysely';
import { groupKeyScope } from '../infra/crypto/event-sealing.js';
import type { GroupEncryptionManager } from '../infra/crypto/group-encryption-manager.js';
import type { EventStore } from '../infra/event-store/port.js';
import type { LeaderLock, Lease } from '../infra/locks/port.js';
import type { PubSub } from '../infra/pubsub/port.js';
import {
  batchProjector,
  broadcastPublisher,
  CHECKPOINT_CHANNEL,
  EventFailure,
  projectedPosition,
  projections,
  resumeAfter,
  takeOverProjection,
  type BatchProjector,
  type Projection,
  type ProjectorLogger,
  type ReadTable,
} from './projector.js';
import { compareWithShadow, type TableComparison } from './rebuild-compare.js';
import type { ReadDb } from './schema.js';
import { dropShadow, migrateShadow, shadowDb, shadowExists, shadowHas, shadowTable, swapShadow } from './shadow-tables.js';
import { dropShreddedGroup, GROUP_TABLES } from './shredding.js';

export interface RebuildDeps {
  /** The live read models' database. */
  db: Kysely<any>;
  eventStore: EventStore;
  crypto: GroupEncryptionManager;
  bus: PubSub;
  lock: LeaderLock;
  logger: Pick<ProjectorLogger, 'warn'>;
}

export interface ReplayProgress {
  /** Events replayed by this run; `total` grows if the log does meanwhile. */
  done: number;
  total: number;
}

export interface ReplayOptions {
  batchSize?: number;
  /** Told before the first batch, once the events to replay are counted, and after each batch committed. */
  onProgress?(progress: ReplayProgress): void;
  /** Told of what the run decided about an unfinished earlier one, before it starts replaying. */
  onNotice?(text: string): void;
  /** Stops after the batch in progress, keeping the shadow for the next run to resume. */
  signal?: AbortSignal;
}

/** Replay stopped at an event that failed: the shadow keeps what came before it. */
export class ReplayFailed extends Error {
  constructor(readonly failure: EventFailure) {
    const { recorded, projection, cause } = failure;
    const where = projection ? `in projection ${projection}` : 'opening it';
    super(
      `Stopped at an event that failed to project: ${recorded.type} ${recorded.streamId}@${recorded.revision} ` +
        `(position ${recorded.position}), ${where}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
        'What was replayed before it is kept: run the command again to resume once the cause is fixed.',
    );
  }
}

/** The run was asked to stop (signal); the next resumes where it stopped. */
export class ReplayInterrupted extends Error {
  constructor(readonly done: number) {
    super(`Interrupted after ${done} events: run the command again to resume from there.`);
  }
}

const BOOKKEEPING = ['mirror_projection_checkpoints', 'mirror_projection_stream_revisions'] as const;
const REBUILD_LOCK = 'projections-rebuild';
const DEFAULT_BATCH_SIZE = 500;

const rebuildable = () => projections.filter((p) => p.tables !== null);
const used = (p: Projection) => [...p.tables!.writes, ...(p.tables!.reads ?? [])];

/**
 * What a rebuild of `name` (all, without one) replays: the projection, and every projection that writes a table
 * one of them uses, and so on. Members rows, for one, are written by groups, reads and mentions, and read by more:
 * rebuilding any of those rebuilds them all, so that every event meets the rows it met the first time.
 */
export function rebuildSet(name?: string): Projection[] {
  const candidates = rebuildable();
  if (name === undefined) return candidates;
  const named = candidates.find((p) => p.name === name);
  if (!named) {
    const never = projections.find((p) => p.name === name);
    throw new Error(
      never
        ? `Projection ${name} is never rebuilt: its rows hold more than the events say`
        : `No projection ${name}: one of ${candidates.map((p) => p.name).join(', ')}`,
    );
  }
  const set = new Set([named]);
  for (let grown = true; grown; ) {
    const tables = new Set([...set].flatMap(used));
    const writers = candidates.filter((p) => !set.has(p) && p.tables!.writes.some((t) => tables.has(t)));
    for (const p of writers) set.add(p);
    grown = writers.length > 0;
  }
  return candidates.filter((p) => set.has(p));
}

/** The tables a rebuild of `set` replaces. */
export const tablesOf = (set: readonly Projection[]): ReadTable[] => [...new Set(set.flatMap((p) => p.tables!.writes))];

/** What `projections status` says of a rebuild that has not finished: its projections' checkpoints in the shadow. */
export async function unfinishedRebuild(db: Kysely<any>): Promise<Map<string, string> | null> {
  if (!(await shadowExists(db)) || !(await shadowHas(db, 'mirror_projection_checkpoints'))) return null;
  const rows = await shadowDb(db).selectFrom('mirror_projection_checkpoints').select(['projection', 'position']).execute();
  return new Map(rows.map((r) => [r.projection, r.position]));
}

async function exclusively<T>(lock: LeaderLock, use: () => Promise<T>): Promise<T> {
  const lease: Lease | null = await lock.tryAcquire(REBUILD_LOCK);
  if (!lease) throw new Error('Another `mirror-chat projections rebuild` or `verify` is running: wait for it to finish');
  try {
    return await use();
  } finally {
    await lease.release();
  }
}

/**
 * The batches that replay `set` into the shadow: going on with an unfinished run's shadow when it got the
 * projections of `set` to one same point (as a run of them, or of all, leaves them), else starting over.
 */
async function shadowFor(deps: RebuildDeps, set: Projection[], options: ReplayOptions & { restart?: boolean }): Promise<BatchProjector> {
  let restart = options.restart ?? false;
  const earlier = restart ? null : await unfinishedRebuild(deps.db);
  if (earlier) {
    const positions = new Set(set.map((p) => earlier.get(p.name) ?? ''));
    if (positions.size > 1) {
      options.onNotice?.(`An unfinished rebuild got these projections to different points: starting over.`);
      restart = true;
    } else if ([...positions][0] !== '') {
      options.onNotice?.(`Resuming the unfinished rebuild from position ${[...positions][0]}.`);
    }
  }
  if (restart) await dropShadow(deps.db);
  await migrateShadow(deps.db);
  // Broadcasts are the live projector's business: the shadow's are dropped.
  return batchProjector({ db: shadowDb(deps.db), projections: set, ctx: { crypto: deps.crypto } }, () => {});
}

/** Replays the log into `batches` until caught up with it (or with `until`), a batch per transaction. */
async function replay(eventStore: EventStore, batches: BatchProjector, options: ReplayOptions, progress: ReplayProgress, until?: string): Promise<string | null> {
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE;
  let after = resumeAfter(batches.checkpoints());
  progress.total = progress.done + (await eventStore.countAfter(after));
  options.onProgress?.({ ...progress });
  for (;;) {
    if (options.signal?.aborted) throw new ReplayInterrupted(progress.done);
    const read = await eventStore.readAll(after, batchSize);
    const events = until === undefined ? read : read.filter((e) => e.position <= until);
    if (events.length > 0) {
      try {
        await batches.project(events);
      } catch (error) {
        throw error instanceof EventFailure ? new ReplayFailed(error) : error;
      }
      after = events.at(-1)!.position;
      progress.done += events.length;
      progress.total = Math.max(progress.total, progress.done);
      options.onProgress?.({ ...progress });
    }
    if (events.length < batchSize) return after;
  }
}

/**
 * A group shredded (`mirror-chat keys shred`) while the shadow was being built left rows there from before, which
 * the shred removed from the live tables only: they go here too, before the shadow is compared or swapped in.
 */
async function dropShreddedGroups(deps: RebuildDeps, shadow: ReadDb, tables: readonly ReadTable[]): Promise<void> {
  const groupIds = new Set<string>();
  for (const table of tables) {
    if (table === 'mirror_groups') {
      for (const row of await shadow.selectFrom('mirror_groups').select('id').execute()) groupIds.add(row.id);
    } else if ((GROUP_TABLES as readonly string[]).includes(table)) {
      const rows = await shadow.selectFrom(table as (typeof GROUP_TABLES)[number]).select('group_id').distinct().execute();
      for (const row of rows) groupIds.add(row.group_id);
    }
  }
  for (const groupId of groupIds) {
    if (await deps.crypto.isShredded(groupKeyScope(groupId))) await dropShreddedGroup(shadow, groupId);
  }
}

export interface RebuildResult {
  projections: string[];
  tables: string[];
  /** Events replayed by this run (a resumed run: since where the last one stopped). */
  events: number;
  /** Where the rebuilt projections stand in the log now (null: the log is empty). */
  position: string | null;
}

/**
 * Replays the log into a shadow of `set`'s tables; then, with the live projector standing still, `finish` brings the
 * shadow to the end and does what the command is for. The shadow's leftovers are dropped afterwards.
 */
async function withCaughtUpShadow<T>(
  deps: RebuildDeps,
  set: Projection[],
  options: ReplayOptions & { restart?: boolean },
  finish: (batches: BatchProjector, progress: ReplayProgress) => Promise<T>,
): Promise<T> {
  return exclusively(deps.lock, async () => {
    const batches = await shadowFor(deps, set, options);
    const progress = { done: 0, total: 0 };
    await replay(deps.eventStore, batches, options, progress);
    const takeover = await takeOverProjection(deps.bus, deps.lock);
    let result: T;
    try {
      result = await finish(batches, progress);
    } finally {
      await takeover.release();
    }
    await dropShadow(deps.db);
    return result;
  });
}

/** Rebuilds the projections of `rebuildSet(projection)` and swaps their tables in. */
export async function rebuild(deps: RebuildDeps, options: ReplayOptions & { projection?: string; restart?: boolean } = {}): Promise<RebuildResult> {
  const set = rebuildSet(options.projection);
  const tables = tablesOf(set);
  const result = await withCaughtUpShadow(deps, set, options, async (batches, progress) => {
    // What the live projector has not projected, the shadow has or gets now.
    const position = await replay(deps.eventStore, batches, options, progress);
    await dropShreddedGroups(deps, shadowDb(deps.db), tables);
    await carryOverBookkeeping(deps.db, set);
    await swapShadow(deps.db, [...tables, ...BOOKKEEPING]);
    return { projections: set.map((p) => p.name), tables, events: progress.done, position };
  });
  // Waiters for a write's position hear at once that the read models have it.
  await deps.bus.publish(CHECKPOINT_CHANNEL, await projectedPosition(deps.db)).catch(() => {});
  return result;
}

/**
 * The checkpoints and replay guards of the projections not rebuilt, as they are in the live tables, so that the
 * swap, which replaces those two tables whole, leaves them as they were. The live projector stands still meanwhile.
 */
async function carryOverBookkeeping(db: Kysely<any>, set: Projection[]): Promise<void> {
  const names = set.map((p) => p.name);
  await (db as ReadDb).transaction().execute(async (trx) => {
    for (const table of BOOKKEEPING) {
      const shadow = shadowTable(db, table) as typeof table;
      await trx.deleteFrom(shadow).where('projection', 'not in', names).execute();
      await trx
        .insertInto(shadow)
        .expression(trx.selectFrom(table).selectAll().where('projection', 'not in', names))
        .execute();
    }
  });
}

export interface VerifyResult {
  /** The log position both the live and the rebuilt read models were compared at (null: the log is empty). */
  position: string | null;
  tables: TableComparison[];
}

/**
 * Rebuilds every projection into the shadow, brings the live read models to the same point (projecting, as the
 * projector would, what they had not yet), and compares them table by table. The shadow is dropped afterwards.
 */
export async function verify(deps: RebuildDeps, options: ReplayOptions = {}): Promise<VerifyResult> {
  const set = rebuildSet();
  const tables = tablesOf(set);
  return withCaughtUpShadow(deps, set, options, async (batches, progress) => {
    const position = (await deps.eventStore.head())?.position ?? null;
    const until = position ?? '';
    await replay(deps.eventStore, batches, options, progress, until);
    // This process is the projector for now: what it projects into the live tables is broadcast as usual.
    const publisher = broadcastPublisher(deps.bus, deps.crypto, deps.logger);
    const live = await batchProjector({ db: deps.db as ReadDb, projections: set, ctx: { crypto: deps.crypto } }, publisher.publish);
    await replay(deps.eventStore, live, { ...options, onProgress: undefined }, { done: 0, total: 0 }, until);
    await publisher.flushed();
    await dropShreddedGroups(deps, shadowDb(deps.db), tables);
    const compared = [...tables.map((table) => ({ table })), { table: 'mirror_projection_stream_revisions', projections: set.map((p) => p.name) }];
    return { position, tables: await compareWithShadow(deps.db, deps.crypto, compared) };
  });
}
