import { createCommands, type Commands } from '../../commands/index.js';
import { timeOrderedId } from '../../infra/time-ordered-id.js';
import { withBackends } from '../command-kit.js';
import type { Backends } from '../backends.js';
import type { Config } from '../config.js';

/** The server's backends, and the commands layer on them as the server builds it: every event real and chained. */
export function withCommands<T>(holder: string, use: (backends: Backends, commands: Commands) => Promise<T>, config?: Config): Promise<T> {
  return withBackends(
    holder,
    (backends) => use(backends, createCommands({ eventStore: backends.eventStore, crypto: backends.crypto, clock: () => new Date(), newId: () => timeOrderedId() })),
    config,
  );
}
