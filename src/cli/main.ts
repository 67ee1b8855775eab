#!/usr/bin/env node
/** The `mirror-chat` command: `serve` runs the server; every other command works on its backends, with its configuration. */
import { Command } from 'commander';
import { createLogger } from '../api/logger.js';
import { parseConfig } from './config.js';
import { startServer } from './compose.js';
import { keysCommand } from './keys.js';
import { sharedBackendsHelp } from './command-kit.js';
import { auditCommand } from './audit/index.js';
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
    const stop = async (signal: string) => {
      logger.info({ signal }, 'shutting down');
      await server.close();
      process.exit(0);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGINT'));
  });

program.addCommand(keysCommand());
program.addCommand(auditCommand());
program.addCommand(usersCommand());
program.addCommand(groupsCommand());
program.addCommand(seedDemoCommand());

program.parseAsync().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
