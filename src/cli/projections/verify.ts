/** `mirror-chat projections verify`: the read models rebuilt aside and compared with the live ones, row by row. */
import { Command } from 'commander';
import { verify } from '../../projections/rebuild.js';
import type { RowKeys, TableComparison } from '../../projections/rebuild-compare.js';
import { table } from '../bootstrap/table.js';
import { jsonOption, print, withBackends, type Output } from '../command-kit.js';
import { embeddedHelp, INTERRUPTED, replayRun } from './replay-run.js';

const differs = (t: TableComparison) => t.missing.count + t.extra.count + t.differing.count > 0;

const keyText = (key: Record<string, unknown>) =>
  Object.entries(key)
    .map(([column, value]) => `${column}=${String(value)}`)
    .join(' ');

function differences(t: TableComparison): string[] {
  const kinds: Array<[string, RowKeys]> = [
    ['missing (rebuilt, not live)', t.missing],
    ['extra (live, not rebuilt)', t.extra],
    ['differing', t.differing],
  ];
  return kinds
    .filter(([, rows]) => rows.count > 0)
    .map(([kind, rows]) => `${t.table}, ${rows.count} ${kind}: ${rows.keys.map(keyText).join('; ')}${rows.count > rows.keys.length ? '; …' : ''}`);
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description('rebuild every projection into shadow tables and compare them with the live ones, row by row')
    .option(...jsonOption)
    .addHelpText(
      'after',
      '\nThe log is replayed into shadow tables while the server keeps serving. Then\n' +
        'the projector pauses while both are brought to the same event and compared:\n' +
        'a checksum per table, then the primary keys of the rows that are missing,\n' +
        'extra or different in the live tables. The shadow tables are dropped after.\n' +
        'A verify stopped (Ctrl-C) is resumed by the next verify or rebuild.\n' +
        '\nSearch rows indexed before a `keys rotate` differ from rebuilt ones, which use\n' +
        "the group's newest key: both are found by searches; a rebuild aligns them.\n" +
        '\nExit code: 0 when the live read models equal the rebuilt ones, 1 when any\n' +
        'table differs (or the check could not run), 130 when interrupted.\n' +
        embeddedHelp,
    )
    .action(async (options: Output) => {
      const result = await withBackends('mirror-chat projections verify', (backends, logger) =>
        replayRun('Rebuilding aside', (replay) =>
          verify({ db: backends.readDb, eventStore: backends.eventStore, crypto: backends.crypto, bus: backends.bus, lock: backends.lock, logger }, replay),
        ),
      );
      if (!result) {
        process.exitCode = INTERRUPTED;
        return;
      }
      const different = result.tables.filter(differs);
      const lines = [
        table(
          ['table', 'live rows', 'rebuilt rows', 'missing', 'extra', 'differing'],
          result.tables.map((t) => [t.table, t.liveRows, t.rebuiltRows, t.missing.count, t.extra.count, t.differing.count]),
        ),
        ...different.flatMap(differences),
        different.length === 0
          ? `The live read models equal the rebuilt ones${result.position ? ` at position ${result.position}` : ''}.`
          : `${different.length} of ${result.tables.length} tables differ from what the log rebuilds.`,
      ];
      print(options, { ok: different.length === 0, ...result }, lines.join('\n'));
      if (different.length > 0) process.exitCode = 1;
    });
}
