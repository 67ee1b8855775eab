/**
 * `mirror-chat audit verify`: checks the hash chains (infra/event-store/hash-chain.ts) from the stored bytes alone,
 * so it needs no keys and works on shredded groups too. `--all` reads the global log once, keeping per stream only
 * how far its check has got.
 */
import { readFile } from 'node:fs/promises';
import { Command } from 'commander';
import { z } from 'zod';
import { groupStreamId } from '../../infra/crypto/event-sealing.js';
import { finish, follow, startCheck, verifyChain, type ChainBreak, type ChainCheck, type ChainHead } from '../../infra/event-store/hash-chain.js';
import type { EventStore } from '../../infra/event-store/port.js';
import { groupOption, jsonOption, print, withBackends, type Output } from '../command-kit.js';

const PAGE = 1000;

interface StreamReport {
  streamId: string;
  events: number;
  /** Leading events written before streams were chained (ChainCheck.unchained). */
  unchained: number;
  /** The last event's link, while the chain holds: kept elsewhere, it pins the history down to here (--against). */
  head: string | null;
  broken: ChainBreak | null;
}

/** Stream id → its head, as a report kept from an earlier run has it. */
type Heads = Map<string, ChainHead>;

const earlierReport = z.object({ streams: z.array(z.object({ streamId: z.string(), events: z.number().int().nonnegative(), head: z.string().nullable() })) });

async function readHeads(path: string): Promise<Heads> {
  const text = await readFile(path, 'utf8');
  let report: z.infer<typeof earlierReport>;
  try {
    report = earlierReport.parse(JSON.parse(text));
  } catch {
    throw new Error(`${path} is not an output of \`mirror-chat audit verify --json\``);
  }
  return new Map(report.streams.flatMap(({ streamId, events, head }) => (head === null ? [] : [[streamId, { events, link: head }]])));
}

async function checkAll(eventStore: EventStore, earlier: Heads): Promise<Map<string, ChainCheck>> {
  const checks = new Map<string, ChainCheck>();
  for (let after: string | null = null; ; ) {
    const page = await eventStore.readAll(after, PAGE);
    for (const event of page) {
      let check = checks.get(event.streamId);
      if (!check) checks.set(event.streamId, (check = startCheck()));
      follow(check, event, earlier.get(event.streamId));
    }
    if (page.length < PAGE) break;
    after = page.at(-1)!.position;
  }
  // A stream gone altogether is one whose every event is missing.
  for (const streamId of earlier.keys()) if (!checks.has(streamId)) checks.set(streamId, startCheck());
  for (const [streamId, check] of checks) finish(check, earlier.get(streamId));
  return checks;
}

async function checkGroup(eventStore: EventStore, groupId: string, earlier: Heads): Promise<[string, ChainCheck]> {
  const streamId = groupStreamId(groupId);
  const events = await eventStore.readStream(streamId);
  if (events.length === 0 && !earlier.has(streamId)) throw new Error(`No group ${groupId}`);
  return [streamId, verifyChain(events, earlier.get(streamId))];
}

const reportOf = (streamId: string, check: ChainCheck): StreamReport => ({
  streamId,
  events: check.events,
  unchained: check.unchained,
  head: check.broken ? null : check.link,
  broken: check.broken,
});

function lineOf(report: StreamReport): string {
  const { streamId, events, unchained, broken } = report;
  if (broken) return `${streamId}: BROKEN at revision ${broken.revision} (${broken.kind}): ${broken.detail}`;
  const before =
    unchained === 0 ? '' : unchained === events ? '; none is linked yet (written before streams were chained), so nothing proves them' : `; the first ${unchained} predate the chain and are held by the links after them`;
  return `${streamId}: OK, ${events} events${before}`;
}

export function verifyCommand(): Command {
  return new Command('verify')
    .description("check the hash chains that make each stream's history tamper-evident (no keys needed: shredded groups too)")
    .option(...groupOption)
    .option('--all', 'every stream in the event store, in one pass over the global log')
    .option('--against <file>', 'also hold each stream to the head an earlier `audit verify --json` recorded in <file>')
    .option(...jsonOption)
    .addHelpText(
      'after',
      '\nEach stream is reported OK, or with its first break: an altered, missing,\n' +
        'reordered or unchained event, or one rewritten since the check whose output\n' +
        '--against names. The chain alone cannot show a stream rewritten from some\n' +
        'event on and linked anew, cut short, or changed in its last event: keep the\n' +
        '--json output of each check where the server cannot write, and give it to\n' +
        'the next check with --against.\n' +
        '\nExit code: 0 when every chain checked holds, 1 when any is broken (or the\n' +
        'check could not run).',
    )
    .action(async (options: Output & { group?: string; all?: boolean; against?: string }) => {
      if (Boolean(options.group) === Boolean(options.all)) throw new Error('Give either --group <id> or --all');
      const earlier = options.against ? await readHeads(options.against) : new Map<string, ChainHead>();
      const checks = await withBackends('mirror-chat audit', async ({ eventStore }) =>
        options.all ? [...(await checkAll(eventStore, earlier))] : [await checkGroup(eventStore, options.group!, earlier)],
      );
      const reports = checks.map(([streamId, check]) => reportOf(streamId, check));
      const broken = reports.filter((r) => r.broken).length;
      const lines = reports.map(lineOf);
      if (options.all) lines.push(broken === 0 ? `All ${reports.length} streams hold.` : `${broken} of ${reports.length} streams are BROKEN.`);
      print(options, { ok: broken === 0, streams: reports }, lines.join('\n'));
      if (broken > 0) process.exitCode = 1;
    });
}
