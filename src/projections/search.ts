/**
 * The blind search index: per message, the keyed tokens of its words (never the words), and what the query's filters
 * need. Edits re-index with the group's newest search key; deletions drop out. See queries/search.ts for the reading.
 */
import { sql } from 'kysely';
import { indexTerms } from '../domain/search/index-terms.js';
import { hasLink } from '../domain/search/words.js';
import { blindToken } from '../infra/crypto/blind-index.js';
import { groupKeyScope } from '../infra/crypto/event-sealing.js';
import type { GroupEncryptionManager } from '../infra/crypto/group-encryption-manager.js';
import { sqlFlavor } from '../infra/sql/dialect.js';
import type { ProjectedSend, Projection, ProjectionContext } from './projector.js';
import type { ReadTransaction } from './schema.js';

/**
 * Messages per slice of a group's history (by their place in the group's stream). Small enough that a word in every
 * message of a million-message group fills a page from the newest slice alone, large enough that a rare word is found
 * in a few widening steps (queries/search.ts).
 */
export const BUCKET_SPAN = 4096;

export const bucketOf = (seq: number) => Math.floor(seq / BUCKET_SPAN);

const INSERT_CHUNK = 200;

export const searchProjection: Projection = {
  name: 'search',
  tables: { writes: ['mirror_group_message_search'] },
  applySends: (trx, sends, ctx) => indexSends(trx, sends, ctx),
  async apply(trx, projected, ctx) {
    const { event } = projected;
    switch (event.type) {
      case 'MessageSent':
        return indexSends(trx, [projected as ProjectedSend], ctx);
      case 'MessageEdited': {
        const e = event.data;
        const row = await trx
          .selectFrom('mirror_group_message_search')
          .select('bucket')
          .where('message_id', '=', e.messageId)
          .executeTakeFirst();
        if (!row) return [];
        await trx
          .updateTable('mirror_group_message_search')
          .set({ tokens: await tokensValue(trx, ctx.crypto, e.groupId, row.bucket, e.content), has_link: hasLink(e.content) })
          .where('message_id', '=', e.messageId)
          .execute();
        return [];
      }
      case 'MessageDeleted':
        await trx.deleteFrom('mirror_group_message_search').where('message_id', '=', event.data.messageId).execute();
        return [];
      default:
        return [];
    }
  },
};

/** Indexes the sends not indexed yet: one already there (a replay) is left as it is. */
async function indexSends(trx: ReadTransaction, sends: ProjectedSend[], { crypto }: ProjectionContext) {
  const rows = await Promise.all(
    sends.map(async ({ event: { data: m }, revision }) => ({
      message_id: m.messageId,
      group_id: m.groupId,
      seq: revision,
      bucket: bucketOf(revision),
      sender_user_id: m.senderUserId,
      thread_root_id: m.threadRootId,
      has_link: hasLink(m.content),
      created_at: new Date(m.sentAt),
      tokens: await tokensValue(trx, crypto, m.groupId, bucketOf(revision), m.content),
    })),
  );
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const insert = trx.insertInto('mirror_group_message_search').values(rows.slice(i, i + INSERT_CHUNK));
    // A key that is there already changes nothing (not INSERT IGNORE, which would also pass bad values with a warning).
    await (sqlFlavor(trx) === 'mysql' ? insert.onDuplicateKeyUpdate({ message_id: sql`message_id` }) : insert.onConflict((oc) => oc.doNothing())).execute();
  }
  return [];
}

/** The column value: space-separated tokens for FULLTEXT, or the tsvector PostgreSQL makes of them. */
async function tokensValue(trx: ReadTransaction, crypto: GroupEncryptionManager, groupId: string, bucket: number, text: string) {
  const [newest] = await crypto.searchKeys(groupKeyScope(groupId));
  const tokens = [...new Set(indexTerms(text).map((term) => blindToken(newest!.key, bucket, term)))].join(' ');
  return sqlFlavor(trx) === 'mysql' ? tokens : sql`to_tsvector('simple', ${tokens})`;
}
