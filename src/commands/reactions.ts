import type { ReactionCommand } from '../domain/reactions.js';
import { groupStreamId } from '../infra/crypto/event-sealing.js';
import type { GroupProcessor } from './groups.js';

type ReactionInput = ReactionCommand['data'] & { groupId: string };

export function reactionCommands(processor: GroupProcessor) {
  const run = async (type: ReactionCommand['type'], { groupId, ...data }: ReactionInput) => {
    const { position } = await processor.execute(groupStreamId(groupId), { type, data });
    return { position };
  };
  return {
    /** Adding a reaction one already has appends nothing (position null). */
    addReaction: (input: ReactionInput) => run('AddReaction', input),
    removeReaction: (input: ReactionInput) => run('RemoveReaction', input),
  };
}
