/** What every scenario is given and the set-up most of them share. */
import type { Profile } from '../test/support/backends.js';
import type { TestBackends } from '../test/support/server.js';
import type { ScenarioResult } from './report.js';
import { benchBackends, startBaseline, startChatServer, type Baseline, type ChatServer } from './servers.js';

export interface BenchContext {
  short: boolean;
  profile: Profile;
  /** Load-generator processes for the socket scenarios. */
  workers: number;
}

export type Scenario = (ctx: BenchContext) => Promise<ScenarioResult>;

export interface Servers {
  backends: TestBackends;
  server: ChatServer;
  baseline: Baseline;
}

/** A chat server on fresh backends and a baseline beside it, for the length of `use`; everything is dropped after. */
export async function withServers<T>(ctx: BenchContext, use: (servers: Servers) => Promise<T>): Promise<T> {
  const backends = await benchBackends(ctx.profile);
  try {
    const [server, baseline] = await Promise.all([startChatServer(backends), startBaseline()]);
    try {
      return await use({ backends, server, baseline });
    } finally {
      await Promise.all([server.stop(), baseline.stop()]);
    }
  } finally {
    await backends.drop();
  }
}
