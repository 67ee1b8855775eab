import type { MarkRead } from '../domain/reads.js';
import { groupStreamId } from '../infra/crypto/event-sealing.js';
import type { GroupProcessor } from './groups.js';

export function readCommands(processor: GroupProcessor) {
  return {
    /** Only one's own messages (or deleted ones) in the list appends nothing (position null). */
    async markRead({ groupId, ...data }: MarkRead['data'] & { groupId: string }) {
      const { position } = await processor.execute(groupStreamId(groupId), { type: 'MarkRead', data });
      return { position };
    },
  };
}
