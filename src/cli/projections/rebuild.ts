/** `mirror-chat projections rebuild`: read models replayed from the log into shadow tables, then swapped in. */
import { Command } from 'commander';
import { projections } from '../../projections/projector.js';
import { rebuild, rebuildSet } from '../../projections/rebuild.js';
import { jsonOption, print, withBackends, type Output } from '../command-kit.js';
import { embeddedHelp, INTERRUPTED, replayRun } from './replay-run.js';

/** Which projections each --projection brings along, from the tables they share (computed, so it cannot go stale). */
function setsHelp(): string {
  const lines = projections.map((p) => {
    if (p.tables === null) return `  ${p.name}: never rebuilt (its rows hold more than the events say)`;
    const others = rebuildSet(p.name).filter((q) => q !== p);
    return `  ${p.name}: ${others.length === 0 ? 'alone' : `with ${others.map((q) => q.name).join(', ')}`}`;
  });
  return `
--projection NAME rebuilds NAME together with every projection that writes a
table it reads or writes, so that each event meets the rows it met the first
time:
${lines.join('\n')}`;
}

export function rebuildCommand(): Command {
  return new Command('rebuild')
    .description('replay the log into shadow tables while the live ones keep serving, then swap them in at once')
    .option('--projection <name>', 'only this projection (and those sharing its tables: see below)')
    .option('--restart', 'start over, dropping what an unfinished rebuild replayed')
    .option(...jsonOption)
    .addHelpText(
      'after',
      () =>
        '\nThe server keeps serving, and its projector keeps projecting, while the log is\n' +
        'replayed into shadow tables. Once they have caught up, the projector pauses\n' +
        'for the last events (REST writes wait meanwhile), the shadow tables replace\n' +
        'the live ones in one step, and the old ones are dropped.\n' +
        '\nA run stopped (Ctrl-C, or killed) is resumed by the next one; --restart\n' +
        'starts over. An event that fails to project stops the run, naming the event;\n' +
        'the exit code is then 1 (130 when interrupted).\n' +
        setsHelp() +
        '\n' +
        embeddedHelp,
    )
    .action(async (options: Output & { projection?: string; restart?: boolean }) => {
      const set = rebuildSet(options.projection).map((p) => p.name);
      const result = await withBackends('mirror-chat projections rebuild', (backends, logger) =>
        replayRun('Rebuilding', (replay) =>
          rebuild({ db: backends.readDb, eventStore: backends.eventStore, crypto: backends.crypto, bus: backends.bus, lock: backends.lock, logger }, {
            ...replay,
            projection: options.projection,
            restart: options.restart,
          }),
        ),
      );
      if (!result) {
        process.exitCode = INTERRUPTED;
        return;
      }
      print(
        options,
        result,
        `Rebuilt ${set.join(', ')}: ${result.events} events replayed${result.position ? `, up to position ${result.position}` : ''}.\n` +
          `Swapped in: ${result.tables.join(', ')}.`,
      );
    });
}
