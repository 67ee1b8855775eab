/**
 * Fan-out: G groups × M members connected, S sends per second spread over the groups for D seconds. Every member's
 * socket measures send→receive latency, loss and order; the server's CPU and RSS are sampled over the same window.
 */
import { startLoad, type PhaseResult, type SocketPlan } from '../load.js';
import { populate } from '../population.js';
import { latencyFigures, type Figure } from '../report.js';
import { withServers, type Scenario } from '../scenario.js';
import { sampleUsage, type Usage } from '../servers.js';

const SIZES = {
  short: { groups: 10, members: 5, rate: 50, seconds: 5, warmupSeconds: 1 },
  full: { groups: 100, members: 20, rate: 500, seconds: 30, warmupSeconds: 5 },
};
export const CONTENT_CHARS = 100;
const DRAIN_MS = 10_000;
const TARGET_P99_MS = 100;

interface Measured {
  result: PhaseResult;
  usage: Usage;
}

async function measure(wsUrl: string, pid: number, sockets: SocketPlan[], workers: number, rate: number, seconds: number, warmupSeconds: number): Promise<Measured> {
  const load = await startLoad(wsUrl, sockets, workers);
  try {
    await load.run({ phase: 0, rate, durationMs: warmupSeconds * 1000, drainMs: DRAIN_MS, contentChars: CONTENT_CHARS });
    const sampling = await sampleUsage(pid);
    const result = await load.run({ phase: 1, rate, durationMs: seconds * 1000, drainMs: DRAIN_MS, contentChars: CONTENT_CHARS });
    return { result, usage: await sampling.stop() };
  } finally {
    await load.close();
  }
}

export const deliveriesPerSecond = (r: PhaseResult) => (r.delivered / r.windowMs) * 1000;

export const fanout: Scenario = async (ctx) => {
  const size = ctx.short ? SIZES.short : SIZES.full;
  const { server: chat, baseline: bare } = await withServers(ctx, async ({ server, baseline }) => {
    const population = await populate(server.process.url, size.groups, size.members);
    const args = [ctx.workers, size.rate, size.seconds, size.warmupSeconds] as const;
    return {
      server: await measure(server.process.wsUrl, server.pid, population.server, ...args),
      baseline: await measure(baseline.wsUrl, baseline.pid, population.baseline, ...args),
    };
  });
  const r = chat.result;
  const figures: Figure[] = [
    ...latencyFigures('send→receive', r.latenciesMs, bare.result.latenciesMs),
    { name: 'deliveries/s', unit: '1/s', value: deliveriesPerSecond(r), baseline: deliveriesPerSecond(bare.result), higherIsBetter: true },
    { name: 'sends', unit: 'count', value: r.sent, baseline: bare.result.sent, higherIsBetter: true },
    { name: 'sends refused', unit: 'count', value: r.refused, baseline: bare.result.refused, higherIsBetter: false },
    { name: 'lost deliveries', unit: 'count', value: r.lost, baseline: bare.result.lost, higherIsBetter: false },
    { name: 'reordered deliveries', unit: 'count', value: r.reordered, baseline: bare.result.reordered, higherIsBetter: false },
    { name: 'bytes per delivery', unit: 'B', value: r.deliveredBytes / r.delivered, baseline: bare.result.deliveredBytes / bare.result.delivered, higherIsBetter: false },
    { name: 'server CPU', unit: '% of a core', value: chat.usage.cpuPercent, baseline: bare.usage.cpuPercent, higherIsBetter: false },
    { name: 'server RSS peak', unit: 'MB', value: chat.usage.rssPeakMb, baseline: bare.usage.rssPeakMb, higherIsBetter: false },
  ];
  const p99 = figures[2]!.value;
  return {
    scenario: 'fanout',
    parameters: { ...size, contentChars: CONTENT_CHARS, workers: ctx.workers, profile: ctx.profile },
    figures,
    notes: [
      `target (full size): p99 ≤ ${TARGET_P99_MS} ms with 0 lost and 0 reordered — ${p99 <= TARGET_P99_MS && r.lost === 0 && r.reordered === 0 ? 'met' : 'missed'} at this size`,
      ctx.profile === 'full'
        ? 'server CPU and RSS are the chat server process alone; PostgreSQL, MariaDB and Redis use CPU besides'
        : 'server CPU and RSS include PGlite, which runs inside the server process on the embedded profile',
    ],
  };
};
