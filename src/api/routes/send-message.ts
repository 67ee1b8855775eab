import type { SendMessageInput } from '../../commands/messages.js';
import { newChatMessages } from '../../projections/queries/message-details.js';
import { getMessage } from '../../projections/queries/messages.js';
import { readDb } from '../../projections/queries/context.js';
import type { ApiDeps } from '../deps.js';
import { readAfterWrite } from '../read-after-write.js';

/** Sending is the same over REST and WebSocket: append, then answer with the message as the next GET shows it. */
export async function sendMessage(deps: ApiDeps, input: SendMessageInput) {
  const { messageId, position, duplicate, sent } = await deps.commands.sendMessage(input);
  const { db, crypto } = deps.read;
  // Once projected, a new message reads just as its event says: only names and a reply's preview take a query.
  const read = sent
    ? async () => (position && (await deps.waiter.waitFor(position, 0)) ? (await newChatMessages(readDb({ db }), crypto, [sent]))[0]! : null)
    : () => getMessage(deps.read, input.groupId, messageId, input.senderUserId);
  const message = await readAfterWrite(deps, position, read);
  // The sender's typing indicator goes away as their message lands.
  await deps.typing.sent(input.groupId, { id: input.senderUserId, username: message.senderUsername ?? '' });
  return { message, duplicate };
}
