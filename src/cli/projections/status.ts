/** `mirror-chat projections status`: each projection's checkpoint, and how far behind the log's head it is. */
import { Command } from 'commander';
import type { EventStore, LogHead } from '../../infra/event-store/port.js';
import { projections, resumeAfter } from '../../projections/projector.js';
import { unfinishedRebuild } from '../../projections/rebuild.js';
import type { ReadDb } from '../../projections/schema.js';
import { table } from '../bootstrap/table.js';
import { jsonOption, print, withBackends, type Output } from '../command-kit.js';

interface ProjectionStatus {
  projection: string;
  /** The position of the last event it applied; null before the first. */
  checkpoint: string | null;
  /** Events of the log after its checkpoint. */
  behind: number;
  /**
   * How much of the log's time those events span: from the oldest of them to the head (0 when caught up). The
   * oldest event not yet projected rather than the checkpoint's own, whose time says nothing after a quiet spell.
   */
  lagSeconds: number;
}

/** Counted once per distinct checkpoint: the projections are usually all at the same one. */
function lagReader(eventStore: EventStore, head: LogHead | null) {
  const known = new Map<string, Promise<{ behind: number; lagSeconds: number }>>();
  const measure = async (after: string | null) => {
    const behind = await eventStore.countAfter(after);
    const [oldest] = behind > 0 && head ? await eventStore.readAll(after, 1) : [];
    return { behind, lagSeconds: oldest ? (head!.recordedAt.getTime() - oldest.recordedAt.getTime()) / 1000 : 0 };
  };
  return (after: string | null) => {
    const key = after ?? '';
    if (!known.has(key)) known.set(key, measure(after));
    return known.get(key)!;
  };
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function statusCommand(): Command {
  return new Command('status')
    .description("each projection's checkpoint, and how far behind the head of the log it is (events, and time)")
    .option(...jsonOption)
    .action(async (options: Output) => {
      await withBackends('mirror-chat projections status', async ({ readDb, eventStore }) => {
        const head = await eventStore.head();
        const lagAfter = lagReader(eventStore, head);
        const rows = await (readDb as ReadDb).selectFrom('mirror_projection_checkpoints').select(['projection', 'position']).execute();
        const stored = new Map(rows.map((r) => [r.projection, r.position || null]));
        const statuses: ProjectionStatus[] = [];
        for (const { name } of projections) {
          const checkpoint = stored.get(name) ?? null;
          statuses.push({ projection: name, checkpoint, ...(await lagAfter(checkpoint)) });
        }
        const shadow = await unfinishedRebuild(readDb);
        const rebuild = shadow && {
          projections: [...shadow].map(([projection, position]) => ({ projection, checkpoint: position || null })),
          behind: (await lagAfter(resumeAfter(shadow))).behind,
        };

        const lines = [
          head ? `Head of the log: ${head.position}, written ${head.recordedAt.toISOString()}.` : 'The log is empty.',
          table(
            ['projection', 'checkpoint', 'behind', 'lag'],
            statuses.map((s) => [s.projection, s.checkpoint ?? '(none yet)', `${s.behind} events`, s.behind === 0 ? 'caught up' : duration(s.lagSeconds)]),
          ),
        ];
        if (rebuild) {
          lines.push(
            `A rebuild of ${rebuild.projections.map((p) => p.projection).join(', ')} is running or was stopped unfinished, ` +
              `${rebuild.behind} events behind: \`projections rebuild\` resumes it.`,
          );
        }
        print(options, { head, projections: statuses, rebuild }, lines.join('\n'));
      });
    });
}
