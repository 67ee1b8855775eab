import { groupCommands, groupProcessor } from './groups.js';
import { messageCommands } from './messages.js';
import { pinCommands } from './pins.js';
import { preferenceCommands } from './preferences.js';
import { reactionCommands } from './reactions.js';
import { readCommands } from './reads.js';
import type { ProcessorDeps } from './stream-processor.js';
import { userCommands } from './users.js';

export type { ProcessorDeps } from './stream-processor.js';

/** Every command the API and the CLI can run. Groups and their messages share one processor: one stream each. */
export function createCommands(deps: ProcessorDeps) {
  const groups = groupProcessor(deps);
  return { ...userCommands(deps), ...groupCommands(deps, groups), ...messageCommands(deps, groups), ...reactionCommands(groups), ...pinCommands(groups), ...readCommands(groups), ...preferenceCommands(groups) };
}

export type Commands = ReturnType<typeof createCommands>;
