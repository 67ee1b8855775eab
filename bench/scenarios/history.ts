/**
 * History: GET …/messages with N messages in one group, sequentially, one request at a time: the newest page, and a
 * page behind a cursor 90% of the way back. The baseline serves a canned page of the same size from memory.
 */
import { RestClient } from '../../test/support/client.js';
import { latencyFigures, type Figure } from '../report.js';
import type { Scenario } from '../scenario.js';
import { seedGroupHistory, serveSeeded } from '../seed.js';
import { benchBackends, startBaseline } from '../servers.js';
import { CONTENT_CHARS } from './fanout.js';

const SIZES = {
  short: { messages: [10_000], requests: 200 },
  full: { messages: [100_000, 1_000_000], requests: 1000 },
};
const PAGE = 50;
const TARGET_P99_MS = 20;
/** Bounds each series in time as well as in count. */
const SERIES_LIMIT_MS = 60_000;

async function timeRequests(api: RestClient, path: string, count: number): Promise<number[]> {
  const latencies: number[] = [];
  const stopAt = performance.now() + SERIES_LIMIT_MS;
  for (let i = 0; i < count && performance.now() < stopAt; i++) {
    const started = performance.now();
    const { status, body } = await api.get(path);
    latencies.push(performance.now() - started);
    if (status !== 200 || body.data.messages.length !== PAGE) throw new Error(`unexpected page: ${status} ${JSON.stringify(body).slice(0, 200)}`);
  }
  return latencies;
}

export const history: Scenario = async (ctx) => {
  const size = ctx.short ? SIZES.short : SIZES.full;
  const baseline = await startBaseline();
  const figures: Figure[] = [];
  const notes: string[] = [];
  try {
    const bare = await timeRequests(new RestClient(baseline.url), `/messages?limit=${PAGE}&contentChars=${CONTENT_CHARS}`, size.requests);
    for (const messages of size.messages) {
      const backends = await benchBackends(ctx.profile);
      try {
        const seed = await seedGroupHistory(backends.env, messages, CONTENT_CHARS);
        const { server, api, seconds } = await serveSeeded(backends, seed);
        try {
          const chat = `/mirror/api/groups/${seed.groupId}/chat/messages?limit=${PAGE}`;
          const deepCursor = seed.messageIds[Math.floor(messages / 10)]!;
          const newest = await timeRequests(api, chat, size.requests);
          const deep = await timeRequests(api, `${chat}&cursor=${deepCursor}&direction=before`, size.requests);
          figures.push(...latencyFigures(`newest page @${messages}`, newest, bare), ...latencyFigures(`deep page @${messages}`, deep, bare));
          const worst = Math.max(...figures.filter((f) => f.name.endsWith(`@${messages} p99`)).map((f) => f.value));
          notes.push(`${messages} messages: projected in ${seconds.toFixed(1)} s from spawning the server; target p99 ≤ ${TARGET_P99_MS} ms (at 1M) — ${worst <= TARGET_P99_MS ? 'met' : 'missed'} at this size`);
        } finally {
          await server.stop();
        }
      } finally {
        await backends.drop();
      }
    }
  } finally {
    await baseline.stop();
  }
  notes.push('sequential requests over loopback, one at a time; p50/p99 are per request, JSON parsing in the client included on both sides');
  return { scenario: 'history', parameters: { ...size, page: PAGE, contentChars: CONTENT_CHARS, profile: ctx.profile }, figures, notes };
};
