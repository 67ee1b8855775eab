/**
 * Connections: K authenticated, idle WebSockets (no group joined) on the chat server and on the baseline; the
 * growth of the server process's RSS divided by K.
 */
import { setTimeout } from 'node:timers/promises';
import { registerUser } from '../../test/support/client.js';
import { inLanes } from '../lanes.js';
import { startLoad, type SocketPlan } from '../load.js';
import type { Figure } from '../report.js';
import { withServers, type Scenario } from '../scenario.js';
import { rssBytes } from '../servers.js';

const SIZES = { short: { connections: 500, users: 5 }, full: { connections: 5000, users: 20 } };
/** Lets the server finish the connections' set-up work (presence, timers) before RSS is read. */
const SETTLE_MS = 2000;
const TARGET_KB = 100;

async function bytesPerConnection(wsUrl: string, pid: number, sockets: SocketPlan[]): Promise<number> {
  await setTimeout(SETTLE_MS);
  const before = await rssBytes(pid);
  const load = await startLoad(wsUrl, sockets, 1);
  try {
    await setTimeout(SETTLE_MS);
    return ((await rssBytes(pid)) - before) / sockets.length;
  } finally {
    await load.close();
  }
}

export const connections: Scenario = async (ctx) => {
  const size = ctx.short ? SIZES.short : SIZES.full;
  const [chat, bare] = await withServers(ctx, async ({ server, baseline }) => {
    const users = await inLanes(Array.from({ length: size.users }), 4, () => registerUser(server.process.url, 'bench'));
    const plans = (token: (i: number) => string) => Array.from({ length: size.connections }, (_, i) => ({ token: token(i % size.users) }));
    return [
      await bytesPerConnection(server.process.wsUrl, server.pid, plans((i) => users[i]!.token)),
      await bytesPerConnection(baseline.wsUrl, baseline.pid, plans((i) => `user-${i}`)),
    ];
  });
  const figures: Figure[] = [{ name: 'RSS per idle connection', unit: 'KB', value: chat / 1024, baseline: bare / 1024, higherIsBetter: false }];
  return {
    scenario: 'connections',
    parameters: { ...size, settleMs: SETTLE_MS, profile: ctx.profile },
    figures,
    notes: [
      `target (full size): ≤ ${TARGET_KB} KB per idle connection — ${chat / 1024 <= TARGET_KB ? 'met' : 'missed'} at this size`,
      'RSS moves with the garbage collector: small sizes are noisy, compare ratios over full-size runs',
      ...(chat <= 0 || bare <= 0 ? ['a server whose RSS did not grow is below what RSS resolves at this size: no ratio'] : []),
    ],
  };
};
