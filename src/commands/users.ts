import { USERS_STREAM, decideUsers, evolveUsers, initialUsersState, type UserCommand, type UserEvent, type UsersState } from '../domain/users.js';
import { StreamProcessor, type ProcessorDeps } from './stream-processor.js';

export function userCommands(deps: ProcessorDeps) {
  const processor = new StreamProcessor<UsersState, UserCommand, UserEvent>(deps, {
    initialState: initialUsersState,
    decide: decideUsers,
    evolve: evolveUsers,
  });

  return {
    /** The password arrives hashed: the stream never sees a password. */
    async registerUser(input: { username: string; email: string; passwordHash: string }) {
      const { events, position } = await processor.execute(USERS_STREAM, { type: 'RegisterUser', data: input });
      return { userId: events[0]!.data.userId, position };
    },
  };
}
