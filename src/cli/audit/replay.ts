/** `mirror-chat audit replay`: a group's history on stdout, a table to read or JSON lines for scripts. */
import Table from 'cli-table3';
import { Command, Option } from 'commander';
import { groupOption, withBackends } from '../command-kit.js';
import { groupHistory, inRange, rangeOf, rangeOptions, type AuditRow } from './history.js';

/** Enough of a message to recognise it; the rest is in `--format jsonl` and exports. */
const DETAILS_SHOWN = 60;

function excerpt(text: string): string {
  const characters = [...text.replace(/\s+/g, ' ').trim()];
  return characters.length <= DETAILS_SHOWN ? characters.join('') : `${characters.slice(0, DETAILS_SHOWN - 1).join('')}…`;
}

/** The time to the second, in UTC as the heading says: the exact one is in the JSON. */
const shortTime = (iso: string) => iso.slice(0, 19).replace('T', ' ');

function tableOf(rows: AuditRow[]): string {
  // No colours: the table is often piped or kept in a ticket.
  const table = new Table({ head: ['rev', 'time (UTC)', 'who', 'did', 'details'], style: { head: [], border: [], compact: true } });
  for (const row of rows) table.push([row.revision, shortTime(row.time), row.actor, row.action, excerpt(row.details)]);
  return table.toString();
}

export function replayCommand(): Command {
  return new Command('replay')
    .description("a group's history, decrypted, in order: who did what, when ([shredded] where its keys were destroyed)")
    .requiredOption(...groupOption)
    .option(...rangeOptions.from)
    .option(...rangeOptions.to)
    .addOption(new Option('--format <format>', 'a table to read, or one JSON object per line (details whole) for scripts').choices(['table', 'jsonl']).default('table'))
    .action(async (options: { group: string; from?: number; to?: number; format: 'table' | 'jsonl' }) => {
      const range = rangeOf(options);
      await withBackends('mirror-chat audit', async (backends) => {
        const { rows } = await groupHistory(backends, options.group);
        const shown: AuditRow[] = [];
        for await (const row of rows) {
          if (!inRange(range, row)) continue;
          if (options.format === 'jsonl') console.log(JSON.stringify(row));
          else shown.push(row);
        }
        if (options.format === 'table') console.log(shown.length > 0 ? tableOf(shown) : 'Nothing happened in that time.');
      });
    });
}
