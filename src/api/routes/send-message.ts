import type { SendMessageInput } from '../../commands/messages.js';
import { readDb } from '../../projections/queries/context.js';
import { newChatMessages } from '../../projections/queries/message-details.js';
import { getMessage } from '../../projections/queries/messages.js';
import type { AuthUser } from '../auth/tokens.js';
import type { ApiDeps } from '../deps.js';
import { readAfterWrite } from '../read-after-write.js';

/** Sending is the same over REST and WebSocket: append, then answer with the message as the next GET shows it. */
export async function sendMessage(deps: ApiDeps, sender: Pick<AuthUser, 'id' | 'username'>, input: Omit<SendMessageInput, 'senderUserId'>) {
  const { messageId, position, duplicate, sent } = await deps.commands.sendMessage({ ...input, senderUserId: sender.id });
  const { db, crypto } = deps.read;
  // Once projected, a new message reads just as its event says: at most a reply's preview takes a query.
  const asSent = async (m: NonNullable<typeof sent>) => (await newChatMessages(readDb({ db }), crypto, [m], new Map([[sender.id, sender.username]])))[0]!;
  const read = sent
    ? async () => (position && (await deps.waiter.waitFor(position, 0)) ? asSent(sent) : null)
    : () => getMessage(deps.read, input.groupId, messageId, sender.id);
  const message = await readAfterWrite(deps, position, read);
  // The sender's typing indicator goes away as their message lands.
  await deps.typing.sent(input.groupId, sender);
  return { message, duplicate };
}
