/**
 * What every operator command (`keys`, `projections`, `audit`, `users`, `groups`, `seed-demo`) shares: the server's
 * own configuration and backends, group ids checked like the API checks them, and results on stdout as readable text
 * or, with --json, one line of JSON. Logs and prompts go to stderr, so stdout stays the result.
 */
import { InvalidArgumentError } from 'commander';
import { destination, type Logger } from 'pino';
import { createLogger } from '../api/logger.js';
import { groupIdSchema } from '../api/schemas/messages.js';
import { openBackends, type Backends } from './backends.js';
import { parseConfig, type Config } from './config.js';

export interface Output {
  json?: boolean;
}

export const jsonOption = ['--json', 'print the result as one line of JSON'] as const;
export const groupOption = ['--group <id>', 'the group (its UUID)', parseGroupId] as const;

/** For the --help of every command that opens the backends: how it shares them with the server (README "Command line"). */
export const sharedBackendsHelp = `
Operator commands (all but serve) run on the server's own configuration: the
same environment, the same backends. In the embedded profile (no backend URLs
set) DATA_DIR belongs to one process at a time, so stop the server first: while
it runs, they refuse and name it. In the full and production profiles they run
beside the servers.`;

export function print(output: Output, result: unknown, text: string): void {
  console.log(output.json ? JSON.stringify(result) : text);
}

export function parseGroupId(value: string): string {
  const parsed = groupIdSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('must be a group id (UUID)');
  return parsed.data;
}

/**
 * The backends as the server opens them, for the length of `use`, with a logger of warnings to stderr; `holder` names
 * the command in DATA_DIR's lock.
 */
export async function withBackends<T>(holder: string, use: (backends: Backends, logger: Logger) => Promise<T>, config: Config = parseConfig(process.env)): Promise<T> {
  const logger = createLogger('warn', destination({ dest: 2, sync: true }));
  const backends = await openBackends(config, logger, holder);
  try {
    return await use(backends, logger);
  } finally {
    await backends.close();
  }
}
