/**
 * `mirror-chat projections …`: how far the read models have got (status), and rebuilding them from the log while the
 * server keeps serving them (rebuild), or checking that a rebuild would change nothing (verify). See
 * projections/rebuild.ts.
 */
import { Command } from 'commander';
import { rebuildCommand } from './rebuild.js';
import { statusCommand } from './status.js';
import { verifyCommand } from './verify.js';

export function projectionsCommand(): Command {
  return new Command('projections')
    .description('the read models: how far behind the log they are, rebuilding them from it, checking them against it')
    .addCommand(statusCommand())
    .addCommand(rebuildCommand())
    .addCommand(verifyCommand());
}
