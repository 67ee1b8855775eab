/**
 * For projections that move counters by deltas, which are not idempotent by themselves: the checkpoint keeps an
 * event from being applied twice, but a replay from a rewound checkpoint (read models restored from a backup older
 * than their rows) would count it again. Remembering the last revision applied per stream makes that replay a no-op.
 *
 * What a batch's transaction knows of these revisions is kept with it: read once for the batch's streams (for every
 * projection at once), and written once before the commit (`recordStreamRevisions`), rather than a read and a write
 * per projection and run.
 */
import { sql } from 'kysely';
import { sqlFlavor } from '../infra/sql/dialect.js';
import type { ProjectedEvent } from './projector.js';
import type { ReadTransaction } from './schema.js';

interface Revisions {
  projections: readonly string[];
  /** Streams whose rows have been read, for every projection. */
  loaded: Set<string>;
  /** `${projection}\n${streamId}` → the last revision applied. */
  applied: Map<string, number>;
  /** The same keys, for what this transaction has applied so far: what `recordStreamRevisions` writes. */
  reached: Map<string, { projection: string; stream_id: string; revision: number }>;
}

const ofTransaction = new WeakMap<ReadTransaction, Revisions>();
const keyOf = (projection: string, streamId: string) => `${projection}\n${streamId}`;

/** Starts keeping the revisions of `projections` with this transaction; `recordStreamRevisions` must end it. */
export function trackStreamRevisions(trx: ReadTransaction, projections: readonly string[]): void {
  ofTransaction.set(trx, { projections, loaded: new Set(), applied: new Map(), reached: new Map() });
}

function revisionsOf(trx: ReadTransaction): Revisions {
  const revisions = ofTransaction.get(trx);
  if (!revisions) throw new Error('stream revisions are kept per projecting transaction: trackStreamRevisions first');
  return revisions;
}

/**
 * The events `projection` has yet to apply, noting that from now on it has. `events` are in log order, so each
 * stream's come in the order of their revisions.
 */
export async function firstApplications<E extends ProjectedEvent>(trx: ReadTransaction, projection: string, events: readonly E[]): Promise<E[]> {
  if (events.length === 0) return [];
  const revisions = revisionsOf(trx);
  const unread = [...new Set(events.map((e) => e.streamId))].filter((streamId) => !revisions.loaded.has(streamId));
  if (unread.length > 0) {
    const rows = await trx
      .selectFrom('mirror_projection_stream_revisions')
      .select(['projection', 'stream_id', 'revision'])
      .where('projection', 'in', [...revisions.projections])
      .where('stream_id', 'in', unread)
      .execute();
    for (const row of rows) revisions.applied.set(keyOf(row.projection, row.stream_id), Number(row.revision));
    for (const streamId of unread) revisions.loaded.add(streamId);
  }
  const fresh = events.filter((e) => e.revision > (revisions.applied.get(keyOf(projection, e.streamId)) ?? -1));
  for (const e of fresh) {
    const key = keyOf(projection, e.streamId);
    revisions.applied.set(key, e.revision);
    revisions.reached.set(key, { projection, stream_id: e.streamId, revision: e.revision });
  }
  return fresh;
}

/** Whether `projection` has yet to apply this one event, noting that from now on it has. */
export const firstApplication = async (trx: ReadTransaction, projection: string, event: ProjectedEvent) =>
  (await firstApplications(trx, projection, [event])).length === 1;

/** Writes what the transaction applied: one statement however many projections and streams. */
export async function recordStreamRevisions(trx: ReadTransaction): Promise<void> {
  const { reached } = revisionsOf(trx);
  ofTransaction.delete(trx);
  if (reached.size === 0) return;
  const insert = trx.insertInto('mirror_projection_stream_revisions').values([...reached.values()]);
  await (sqlFlavor(trx) === 'mysql'
    ? insert.onDuplicateKeyUpdate({ revision: sql`values(revision)` })
    : insert.onConflict((oc) => oc.columns(['projection', 'stream_id']).doUpdateSet({ revision: (eb) => eb.ref('excluded.revision') }))
  ).execute();
}
