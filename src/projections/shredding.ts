/**
 * After a group's keys are destroyed (`mirror-chat keys shred`), its rows leave the read models: sealed bodies would
 * no longer open anyway, and what is stored in clear beside them (the group's name, who is in it, who reacted with
 * what) goes with them. The projector projects the group's events to nothing from then on (projector.ts).
 */
import type { Kysely } from 'kysely';
import { groupStreamId } from '../infra/crypto/event-sealing.js';
import type { ReadDb } from './schema.js';

/** The group's rows, table by table; every table here has a `group_id`. */
export const GROUP_TABLES = [
  'mirror_group_messages',
  'mirror_group_message_search',
  'mirror_group_members',
  'mirror_group_message_reads',
  'mirror_group_message_reactions',
  'mirror_group_message_mentions',
  'mirror_group_pinned_messages',
  'mirror_group_chat_attachments',
  'mirror_group_typing_indicators',
  'mirror_group_chat_preferences',
  'mirror_group_message_delivery_queue',
] as const;

export async function dropShreddedGroup(db: Kysely<any>, groupId: string): Promise<void> {
  await (db as ReadDb).transaction().execute(async (trx) => {
    for (const table of GROUP_TABLES) await trx.deleteFrom(table).where('group_id', '=', groupId).execute();
    await trx.deleteFrom('mirror_projection_stream_revisions').where('stream_id', '=', groupStreamId(groupId)).execute();
    await trx.deleteFrom('mirror_groups').where('id', '=', groupId).execute();
  });
}
