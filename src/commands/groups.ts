import { decide, evolve, initialGroupState, type GroupCommand, type GroupEvent, type GroupState, type MemberRole } from '../domain/groups.js';
import { groupIdOfStream, groupStreamId } from '../infra/crypto/event-sealing.js';
import { StreamProcessor, type ProcessorDeps } from './stream-processor.js';

export type GroupProcessor = StreamProcessor<GroupState, GroupCommand, GroupEvent>;

export function groupProcessor(deps: ProcessorDeps): GroupProcessor {
  return new StreamProcessor<GroupState, GroupCommand, GroupEvent>(deps, {
    initialState: (streamId) => initialGroupState(groupIdOfStream(streamId)!),
    decide,
    evolve,
  });
}

export function groupCommands(deps: ProcessorDeps, processor: GroupProcessor) {
  return {
    async createGroup(input: { ownerUserId: number; ownerUsername: string; name: string }) {
      const groupId = deps.newId();
      const { position } = await processor.execute(groupStreamId(groupId), { type: 'CreateGroup', data: { groupId, ...input } });
      return { groupId, position };
    },

    async addMember(input: { groupId: string; actorUserId: number; userId: number; username: string; role: Exclude<MemberRole, 'owner'> }) {
      const { groupId, ...data } = input;
      const { position } = await processor.execute(groupStreamId(groupId), { type: 'AddMember', data });
      return { position };
    },

    async removeMember(input: { groupId: string; actorUserId: number; userId: number }) {
      const { groupId, ...data } = input;
      const { position } = await processor.execute(groupStreamId(groupId), { type: 'RemoveMember', data });
      return { position };
    },
  };
}
