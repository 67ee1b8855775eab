/**
 * Saturation: the fan-out set-up, with the send rate doubled step by step until a step is no longer sustained
 * (p99 above 250 ms, or a delivery lost, or a send refused), then bisected between the last sustained rate and the
 * first that was not, so the ceiling is known to within an eighth of that interval rather than a factor of two. The
 * highest sustained step's delivery rate is compared with the baseline's, found the same way on the same rooms.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { startLoad, type SocketPlan } from '../load.js';
import { populate } from '../population.js';
import { percentile, type Figure } from '../report.js';
import { withServers, type Scenario } from '../scenario.js';
import { CONTENT_CHARS, deliveriesPerSecond } from './fanout.js';

const SIZES = {
  short: { groups: 10, members: 5, firstRate: 50, steps: 6, bisections: 2, stepSeconds: 2 },
  full: { groups: 100, members: 20, firstRate: 100, steps: 8, bisections: 3, stepSeconds: 10 },
};
const P99_LIMIT_MS = 250;
const DRAIN_MS = 3000;
const TARGET_RATIO = 0.4;

interface Step {
  rate: number;
  p99Ms: number;
  deliveriesPerSecond: number;
  sustained: boolean;
}

async function climb(wsUrl: string, sockets: SocketPlan[], workers: number, size: (typeof SIZES)['short']): Promise<Step[]> {
  const load = await startLoad(wsUrl, sockets, workers);
  const steps: Step[] = [];
  const step = async (rate: number) => {
    const r = await load.run({ phase: steps.length, rate, durationMs: size.stepSeconds * 1000, drainMs: DRAIN_MS, contentChars: CONTENT_CHARS });
    const p99Ms = percentile(Float64Array.from(r.latenciesMs).sort(), 99);
    const sustained = p99Ms <= P99_LIMIT_MS && r.lost === 0 && r.refused === 0;
    steps.push({ rate, p99Ms, deliveriesPerSecond: deliveriesPerSecond(r), sustained });
    // An overloaded server is still working off its backlog: let it, or the next step measures the leftovers.
    if (!sustained) await sleep(size.stepSeconds * 1000);
    return sustained;
  };
  try {
    let high = 0;
    for (let i = 0; i < size.steps && high === 0; i++) {
      const rate = size.firstRate * 2 ** i;
      if (!(await step(rate))) high = rate;
    }
    let low = high / 2;
    for (let i = 0; i < size.bisections && high > 0 && low >= size.firstRate; i++) {
      const rate = Math.round((low + high) / 2);
      if (await step(rate)) low = rate;
      else high = rate;
    }
  } finally {
    await load.close();
  }
  return steps;
}

export const saturation: Scenario = async (ctx) => {
  const size = ctx.short ? SIZES.short : SIZES.full;
  const { server: chat, baseline: bare } = await withServers(ctx, async ({ server, baseline }) => {
    const population = await populate(server.process.url, size.groups, size.members);
    return {
      server: await climb(server.process.wsUrl, population.server, ctx.workers, size),
      baseline: await climb(baseline.wsUrl, population.baseline, ctx.workers, size),
    };
  });
  const best = (steps: Step[]) => steps.filter((s) => s.sustained).sort((a, b) => a.rate - b.rate).at(-1);
  const figures: Figure[] = [
    { name: 'highest sustained send rate', unit: 'sends/s', value: best(chat)?.rate ?? 0, baseline: best(bare)?.rate ?? 0, higherIsBetter: true },
    { name: 'deliveries/s at that rate', unit: '1/s', value: best(chat)?.deliveriesPerSecond ?? 0, baseline: best(bare)?.deliveriesPerSecond ?? 0, higherIsBetter: true },
  ];
  const ratio = figures[1]!.value / figures[1]!.baseline!;
  const notes = [`target (full size): ≥ ${TARGET_RATIO * 100}% of the baseline's delivery rate — ${ratio >= TARGET_RATIO ? 'met' : 'missed'} (${(ratio * 100).toFixed(0)}%)`];
  if (bare.every((s) => s.sustained)) {
    notes.push(`the baseline sustained every step up to ${bare.at(-1)!.rate}/s: its real ceiling is higher (or the load generator's), so the ratio is an upper bound`);
  }
  const stepLine = (who: string, steps: Step[]) =>
    `${who} steps: ${steps.map((s) => `${s.rate}/s → p99 ${s.p99Ms.toFixed(1)} ms${s.sustained ? '' : ' (not sustained)'}`).join(', ')}`;
  notes.push(stepLine('chat server', chat), stepLine('baseline', bare));
  return {
    scenario: 'saturation',
    parameters: { ...size, p99LimitMs: P99_LIMIT_MS, contentChars: CONTENT_CHARS, workers: ctx.workers, profile: ctx.profile },
    figures,
    notes,
  };
};
