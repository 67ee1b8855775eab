import type { MessageSent, SendMessage } from '../domain/messages.js';
import { findByClientMessageId } from '../domain/messages.js';
import { groupStreamId } from '../infra/crypto/event-sealing.js';
import type { ProcessorDeps } from './stream-processor.js';
import type { GroupProcessor } from './groups.js';

export type SendMessageInput = Omit<SendMessage['data'], 'messageId'> & { groupId: string };

export function messageCommands(deps: ProcessorDeps, processor: GroupProcessor) {
  return {
    /** A retry with the same clientMessageId appends nothing and answers the original message's id. */
    async sendMessage(input: SendMessageInput) {
      const { groupId, ...data } = input;
      const { answer, position, events } = await processor.execute(
        groupStreamId(groupId),
        { type: 'SendMessage', data: { messageId: deps.newId(), ...data } },
        (state, events) =>
          events.length > 0
            ? (events[0]!.data as { messageId: string }).messageId
            : findByClientMessageId(state, input.senderUserId, input.clientMessageId!)!,
      );
      // `sent`: the new message as stored, which its sender can be answered with; null for a repeated clientMessageId.
      const sent = events.find((e): e is MessageSent => e.type === 'MessageSent')?.data ?? null;
      return { messageId: answer, position, duplicate: position === null, sent };
    },

    async editMessage(input: { groupId: string; messageId: string; editorUserId: number; content: string }) {
      const { groupId, ...data } = input;
      const { position } = await processor.execute(groupStreamId(groupId), { type: 'EditMessage', data });
      return { position };
    },

    async deleteMessage(input: { groupId: string; messageId: string; actorUserId: number }) {
      const { groupId, ...data } = input;
      const { position } = await processor.execute(groupStreamId(groupId), { type: 'DeleteMessage', data });
      return { position };
    },
  };
}
