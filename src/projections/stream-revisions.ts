/**
 * For projections that move counters by deltas, which are not idempotent by themselves: the checkpoint keeps an
 * event from being applied twice, but a replay from a rewound checkpoint (read models restored from a backup older
 * than their rows) would count it again. Remembering the last revision applied per stream makes that replay a no-op.
 */
import type { ProjectedEvent } from './projector.js';
import type { ReadTransaction } from './schema.js';

/** Whether `projection` has yet to apply this event, recording that from now on it has. Usually one UPDATE. */
export async function firstApplication(trx: ReadTransaction, projection: string, { streamId, revision }: ProjectedEvent): Promise<boolean> {
  const moved = await trx
    .updateTable('mirror_projection_stream_revisions')
    .set({ revision })
    .where('projection', '=', projection)
    .where('stream_id', '=', streamId)
    .where('revision', '<', revision)
    .executeTakeFirst();
  if (moved.numUpdatedRows > 0n) return true;
  const known = await trx
    .selectFrom('mirror_projection_stream_revisions')
    .select('revision')
    .where('projection', '=', projection)
    .where('stream_id', '=', streamId)
    .executeTakeFirst();
  if (known) return false;
  await trx.insertInto('mirror_projection_stream_revisions').values({ projection, stream_id: streamId, revision }).execute();
  return true;
}
