import type { SendMessageInput } from '../../commands/messages.js';
import type { ApiDeps } from '../deps.js';
import { messageAfterWrite } from '../read-after-write.js';

/** Sending is the same over REST and WebSocket: append, then answer with the projected message. */
export async function sendMessage(deps: ApiDeps, input: SendMessageInput) {
  const { messageId, position, duplicate } = await deps.commands.sendMessage(input);
  const message = await messageAfterWrite(deps, position, input.groupId, messageId, input.senderUserId);
  // The sender's typing indicator goes away as their message lands.
  await deps.typing.sent(input.groupId, { id: input.senderUserId, username: message.senderUsername ?? '' });
  return { message, duplicate };
}
