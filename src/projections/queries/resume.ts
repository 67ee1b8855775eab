/**
 * What a member missed in a group since a message they saw: the frames of every message sent, edited or deleted after
 * it, in order. They are rebuilt from the group's stream, because the read models keep each message's latest state
 * only, not each edit.
 */
import { SHREDDED } from '../../commands/stream-processor.js';
import { DomainError } from '../../domain/errors.js';
import type { MessageEvent } from '../../domain/messages.js';
import { groupStreamId, openEvent } from '../../infra/crypto/event-sealing.js';
import { KeyShreddedError } from '../../infra/crypto/group-encryption-manager.js';
import type { EventStore } from '../../infra/event-store/port.js';
import type { GroupFrame } from '../broadcasts.js';
import { deletedFrame, editedFrame, messageFrame } from '../messages.js';
import { readDb, type ReadContext } from './context.js';
import { newChatMessages } from './message-details.js';

const REPLAYED: ReadonlySet<string> = new Set<MessageEvent['type']>(['MessageSent', 'MessageEdited', 'MessageDeleted']);

/**
 * The frames missed after `lastMessageId` (NOT_FOUND when it is no message of the group), or null when there are more
 * than `maxEvents`: the client should then refetch over REST rather than be sent them one by one.
 */
export async function missedFrames(
  ctx: ReadContext,
  eventStore: Pick<EventStore, 'readStream'>,
  groupId: string,
  lastMessageId: string,
  maxEvents: number,
): Promise<GroupFrame[] | null> {
  const db = readDb(ctx);
  const seen = await db
    .selectFrom('mirror_group_messages')
    .select('seq')
    .where('group_id', '=', groupId)
    .where('id', '=', lastMessageId)
    .executeTakeFirst();
  if (!seen) throw new DomainError('NOT_FOUND', 'lastMessageId is not a message of this group');
  // A message's seq is its MessageSent's revision in the group's stream.
  const after = Number(seen.seq);
  // Past the bound in messages alone, the stream (which also holds reactions, reads, pins…) need not be read at all.
  const later = await db
    .selectFrom('mirror_group_messages')
    .select('id')
    .where('group_id', '=', groupId)
    .where('seq', '>', after)
    .limit(maxEvents + 1)
    .execute();
  if (later.length > maxEvents) return null;

  // The store may be ahead of the read models: what it has and the projector has not broadcast yet is replayed
  // too, and the gateway drops the live copy when it comes (api/ws/resume.ts).
  const recorded = (await eventStore.readStream(groupStreamId(groupId), after + 1)).filter((r) => REPLAYED.has(r.type));
  if (recorded.length > maxEvents) return null;
  const events = await Promise.all(recorded.map((r) => openEvent<MessageEvent>(ctx.crypto, r))).catch((error: unknown) => {
    throw error instanceof KeyShreddedError ? new DomainError('NOT_FOUND', SHREDDED) : error;
  });

  // A deletion took the text out of the read models; the event store keeps it for audits, not to hand out again.
  const deleted = new Set(events.flatMap((e) => (e.type === 'MessageDeleted' ? [e.data.messageId] : [])));
  const sends = events.flatMap((e) =>
    e.type !== 'MessageSent' ? [] : [deleted.has(e.data.messageId) ? { ...e.data, content: '', metadata: null } : e.data],
  );
  const messages = (await newChatMessages(db, ctx.crypto, sends)).values();
  return events.map((e) => {
    switch (e.type) {
      case 'MessageSent':
        return messageFrame(messages.next().value!);
      case 'MessageEdited':
        return editedFrame(deleted.has(e.data.messageId) ? { ...e.data, content: '' } : e.data);
      case 'MessageDeleted':
        return deletedFrame(e.data);
    }
  });
}
