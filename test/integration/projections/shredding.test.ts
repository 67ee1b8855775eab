/**
 * After `keys shred`: the group's rows are gone from the read models, the projector passes the group's events (they
 * no longer open) without stalling the log, and commands on the group answer that it was shredded.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { groupKeyScope, groupStreamId } from '../../../src/infra/crypto/event-sealing.js';
import { SHREDDED } from '../../../src/commands/stream-processor.js';
import { getMessage } from '../../../src/projections/queries/messages.js';
import type { ReadDb } from '../../../src/projections/schema.js';
import { dropShreddedGroup } from '../../../src/projections/shredding.js';
import { commandsOn } from '../../support/unread-counts.js';
import { append, messageSent, openReadSide, projectorOn, seedGroup, seedUser, untilProjected, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
beforeAll(async () => {
  side = await openReadSide();
});
afterAll(async () => {
  await side?.close();
});

it('drops the group’s rows, passes its events and keeps projecting the rest', async () => {
  const owner = await seedUser(side, 'owner');
  const doomed = await seedGroup(side, owner.userId);
  const kept = await seedGroup(side, owner.userId);
  const first = projectorOn(side);
  const { position: projected } = await append(side, groupStreamId(doomed.groupId), [messageSent(doomed.groupId, owner.userId, 'projected before')]);
  await untilProjected(side, projected);
  await first.projector.stop();

  // Appended while no projector runs, shredded before one does.
  await append(side, groupStreamId(doomed.groupId), [messageSent(doomed.groupId, owner.userId, 'never projected')]);
  await side.crypto.shred(groupKeyScope(doomed.groupId));
  await dropShreddedGroup(side.db, doomed.groupId);
  const survivor = messageSent(kept.groupId, owner.userId, 'after the shred');
  const { position } = await append(side, groupStreamId(kept.groupId), [survivor]);

  const { projector, logs } = projectorOn(side);
  await untilProjected(side, position);
  await projector.stop();
  expect(logs.filter((l) => l.level === 'error')).toEqual([]);
  expect(await getMessage(side, kept.groupId, survivor.data.messageId, owner.userId)).toMatchObject({ content: 'after the shred' });

  const db = side.db as ReadDb;
  for (const table of ['mirror_group_messages', 'mirror_group_members', 'mirror_group_message_search'] as const) {
    expect(await db.selectFrom(table).select('group_id').where('group_id', '=', doomed.groupId).execute(), table).toEqual([]);
  }
  expect(await db.selectFrom('mirror_groups').select('id').where('id', '=', doomed.groupId).execute()).toEqual([]);

  const send = commandsOn(side).sendMessage({
    groupId: doomed.groupId,
    senderUserId: owner.userId,
    content: 'anyone?',
    contentType: 'text',
    parentMessageId: null,
    clientMessageId: null,
    metadata: null,
  });
  await expect(send).rejects.toMatchObject({ code: 'NOT_FOUND', message: SHREDDED });
});
