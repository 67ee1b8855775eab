import type { SendMessageInput } from '../../commands/messages.js';
import { getMessage } from '../../projections/queries/messages.js';
import type { ApiDeps } from '../deps.js';
import { readAfterWrite } from '../read-after-write.js';

/** Sending is the same over REST and WebSocket: append, then answer with the projected message. */
export async function sendMessage(deps: ApiDeps, input: SendMessageInput) {
  const { messageId, position, duplicate } = await deps.commands.sendMessage(input);
  const message = await readAfterWrite(deps, position, () => getMessage(deps.read, input.groupId, messageId));
  return { message, duplicate };
}
