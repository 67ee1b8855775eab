/**
 * Upgrading over a search index whose tokens the running build no longer makes (0007_search_tokens_v2): the
 * migration empties it and the projector indexes the log again, so older messages are found as before.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseSearchQuery } from '../../../src/domain/search/query.js';
import { groupStreamId } from '../../../src/infra/crypto/event-sealing.js';
import { sqlFlavor } from '../../../src/infra/sql/dialect.js';
import { migrateReadModels } from '../../../src/projections/migrations.js';
import { searchMessages } from '../../../src/projections/queries/search.js';
import { append, messageSent, openReadSide, projectorOn, seedGroup, seedUser, untilProjected, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
beforeAll(async () => {
  side = await openReadSide();
});
afterAll(() => side?.close());

it('indexes the history again when the tokens changed form, and finds it', async () => {
  let { projector } = projectorOn(side);
  const owner = await seedUser(side, 'owner');
  const { groupId } = await seedGroup(side, owner.userId);
  const { position } = await append(side, groupStreamId(groupId), [
    messageSent(groupId, owner.userId, 'the deployment went fine'),
    messageSent(groupId, owner.userId, 'lunch at noon'),
  ]);
  await untilProjected(side, position);
  const search = async (q: string) =>
    (await searchMessages(side, { groupId, viewerId: owner.userId, query: parseSearchQuery(q), limit: 20, sort: 'newest', cursor: null })).results.map(
      (r) => r.message.content,
    );
  expect(await search('deploy')).toEqual(['the deployment went fine']);

  // As an older build left it: tokens this one never makes, and neither the migration nor those after it run yet.
  await projector.stop();
  const stale = sqlFlavor(side.db) === 'mysql' ? sql`${'0aaaa'}` : sql`to_tsvector('simple', ${'0aaaa'})`;
  await side.db.updateTable('mirror_group_message_search').set({ tokens: stale }).execute();
  const ageIndex = side.db.schema.dropIndex('mirror_group_message_delivery_queue_age');
  await (sqlFlavor(side.db) === 'mysql' ? ageIndex.on('mirror_group_message_delivery_queue') : ageIndex).execute();
  await side.db.deleteFrom('mirror_read_migrations').where('name', '>=', '0007_search_tokens_v2').execute();
  expect(await search('deploy')).toEqual([]);

  await migrateReadModels(side.db);
  ({ projector } = projectorOn(side));
  try {
    await untilProjected(side, position);
    expect(await search('deploy')).toEqual(['the deployment went fine']);
    expect(await search('noon')).toEqual(['lunch at noon']);
  } finally {
    await projector.stop();
  }
});
