import type { UpdatePreferences } from '../domain/preferences.js';
import { groupStreamId } from '../infra/crypto/event-sealing.js';
import type { GroupProcessor } from './groups.js';

export function preferenceCommands(processor: GroupProcessor) {
  return {
    /** Fields left out keep their value; a change to what is already set appends nothing (position null). */
    async updatePreferences({ groupId, ...data }: UpdatePreferences['data'] & { groupId: string }) {
      const { position } = await processor.execute(groupStreamId(groupId), { type: 'UpdatePreferences', data });
      return { position };
    },
  };
}
