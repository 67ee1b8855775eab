import { DomainError } from '../../domain/errors.js';
import { readDb, type ReadContext } from './context.js';
import { listMessages, type ListMessagesInput, type MessagePage } from './messages.js';

/**
 * A page of the thread `messageId` belongs to: its replies, oldest first by default. Threads are flat, as in Slack:
 * a reply's thread is its root's, so opening a thread from any of its messages shows the same conversation.
 */
export async function listThread(ctx: ReadContext, input: Omit<ListMessagesInput, 'threadRootId'> & { messageId: string }): Promise<MessagePage> {
  const { messageId, ...page } = input;
  const message = await readDb(ctx)
    .selectFrom('mirror_group_messages')
    .select(['id', 'thread_root_id'])
    .where('group_id', '=', input.groupId)
    .where('id', '=', messageId)
    .executeTakeFirst();
  if (!message) throw new DomainError('NOT_FOUND', 'Message not found');
  return listMessages(ctx, { ...page, threadRootId: message.thread_root_id ?? message.id });
}
