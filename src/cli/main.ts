#!/usr/bin/env node
/** The `mirror-chat` command: `serve` runs the server; every other command works on its backends, with its configuration. */
import { Command } from 'commander';
import { createLogger } from '../api/logger.js';
import { parseConfig } from './config.js';
import { startServer } from './compose.js';
import { keysCommand } from './keys.js';
import { sharedBackendsHelp } from './command-kit.js';
import { auditCommand } from './audit/index.js';
import { projectionsCommand } from './projections/index.js';
import { groupsCommand } from './bootstrap/groups.js';
import { seedDemoCommand } from './bootstrap/seed-demo.js';
import { usersCommand } from './bootstrap/users.js';

const program = new Command('mirror-chat')
  .description('MirrorGroups Chat: event-sourced real-time group chat backend')
  .addHelpText('after', sharedBackendsHelp);

program
  .command('serve')
  .description('run the HTTP and WebSocket server (embedded profile unless backend URLs are set)')
  .action(async () => {
    const config = parseConfig(process.env);
    const logger = createLogger(config.LOG_LEVEL);
    const server = await startServer(config, logger);
    let stopping = false;
    const stop = async (signal: string) => {
      // A second signal while draining is the operator's impatience: end at once.
      if (stopping) process.exit(1);
      stopping = true;
      logger.info({ signal }, 'shutting down: finishing what is in flight');
      try {
        await server.close();
      } catch (err) {
        logger.error({ err }, 'shutting down failed');
        process.exit(1);
      }
      logger.info({}, 'stopped');
      process.exit(0);
    };
    process.on('SIGTERM', () => void stop('SIGTERM'));
    process.on('SIGINT', () => void stop('SIGINT'));
  });

program.addCommand(keysCommand());
program.addCommand(projectionsCommand());
program.addCommand(auditCommand());
program.addCommand(usersCommand());
program.addCommand(groupsCommand());
program.addCommand(seedDemoCommand());

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
