import type { PinMessage, UnpinMessage } from '../domain/pins.js';
import { groupStreamId } from '../infra/crypto/event-sealing.js';
import type { GroupProcessor } from './groups.js';

export function pinCommands(processor: GroupProcessor) {
  return {
    /** Pinning a pinned message pins it again: the note is replaced and the pin moves to the top. */
    async pinMessage({ groupId, ...data }: PinMessage['data'] & { groupId: string }) {
      const { position } = await processor.execute(groupStreamId(groupId), { type: 'PinMessage', data });
      return { position };
    },

    async unpinMessage({ groupId, ...data }: UnpinMessage['data'] & { groupId: string }) {
      const { position } = await processor.execute(groupStreamId(groupId), { type: 'UnpinMessage', data });
      return { position };
    },
  };
}
