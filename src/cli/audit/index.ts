/**
 * `mirror-chat audit …`: a group's history read back as it happened (replay, export), and the hash chains that show
 * nobody rewrote it (verify). Runs on the server's own configuration; in the embedded profile only while the server
 * is stopped, as DATA_DIR has one owner at a time.
 */
import { Command } from 'commander';
import { exportCommand } from './export.js';
import { replayCommand } from './replay.js';
import { verifyCommand } from './verify.js';

export function auditCommand(): Command {
  return new Command('audit')
    .description("read a group's history as it happened, and check that nobody rewrote the event store")
    .addCommand(replayCommand())
    .addCommand(verifyCommand())
    .addCommand(exportCommand());
}
