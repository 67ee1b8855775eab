/**
 * For projections that move counters by deltas, which are not idempotent by themselves: the checkpoint keeps an
 * event from being applied twice, but a replay from a rewound checkpoint (read models restored from a backup older
 * than their rows) would count it again. Remembering the last revision applied per stream makes that replay a no-op.
 */
import { sql } from 'kysely';
import { sqlFlavor } from '../infra/sql/dialect.js';
import type { ProjectedEvent } from './projector.js';
import type { ReadTransaction } from './schema.js';

/**
 * The events `projection` has yet to apply, recording that from now on it has: two statements however many events
 * and streams. `events` are in log order, so each stream's come in the order of their revisions.
 */
export async function firstApplications<E extends ProjectedEvent>(trx: ReadTransaction, projection: string, events: readonly E[]): Promise<E[]> {
  if (events.length === 0) return [];
  const rows = await trx
    .selectFrom('mirror_projection_stream_revisions')
    .select(['stream_id', 'revision'])
    .where('projection', '=', projection)
    .where('stream_id', 'in', [...new Set(events.map((e) => e.streamId))])
    .execute();
  const applied = new Map(rows.map((r) => [r.stream_id, Number(r.revision)]));
  const fresh = events.filter((e) => e.revision > (applied.get(e.streamId) ?? -1));
  const reached = new Map(fresh.map((e) => [e.streamId, e.revision]));
  if (reached.size === 0) return fresh;

  const insert = trx
    .insertInto('mirror_projection_stream_revisions')
    .values([...reached].map(([streamId, revision]) => ({ projection, stream_id: streamId, revision })));
  await (sqlFlavor(trx) === 'mysql'
    ? insert.onDuplicateKeyUpdate({ revision: sql`values(revision)` })
    : insert.onConflict((oc) => oc.columns(['projection', 'stream_id']).doUpdateSet({ revision: (eb) => eb.ref('excluded.revision') }))
  ).execute();
  return fresh;
}

/** Whether `projection` has yet to apply this one event, recording that from now on it has. */
export const firstApplication = async (trx: ReadTransaction, projection: string, event: ProjectedEvent) =>
  (await firstApplications(trx, projection, [event])).length === 1;
