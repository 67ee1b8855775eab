/**
 * `mirror-chat projections …` as an operator runs them, on a history made through the API: a rebuild gives back the
 * read models the live projector made, verify finds them equal and then finds rows changed behind the server's back,
 * a stopped rebuild resumes where it stopped (status tells of it), and an event that cannot be projected stops one.
 * In the full profile the server runs beside every command and keeps answering; in the embedded one it is stopped
 * for each (DATA_DIR has one owner).
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { beforeAll, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/api/logger.js';
import { openBackends } from '../../src/cli/backends.js';
import { parseConfig } from '../../src/cli/config.js';
import { groupStreamId } from '../../src/infra/crypto/event-sealing.js';
import { encodePosition } from '../../src/infra/event-store/position.js';
import { openMysqlDb } from '../../src/infra/sql/mysql/index.js';
import { openPgliteDb } from '../../src/infra/sql/pglite/index.js';
import { openPostgresDb } from '../../src/infra/sql/postgres/index.js';
import { rebuild, rebuildSet, ReplayInterrupted } from '../../src/projections/rebuild.js';
import { profile } from '../support/backends.js';
import { runCli, useCliServer } from '../support/cli.js';
import { groupWith, registerUser, RestClient, type TestUser } from '../support/client.js';

// Every run is a process of its own that opens the backends and replays the log: seconds each.
vi.setConfig({ testTimeout: 180_000 });

const cli = useCliServer();
const projections = (...args: string[]) => runCli(['projections', ...args], cli.backends.env);

let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let team: string;
/** Where messages go while a rebuild runs, so that the team's read models can be compared before and after. */
let busy: string;
const ids: Record<string, string> = {};
/** What the API showed of the team before any command ran. */
let before: Awaited<ReturnType<typeof seen>>;

/** A user's calls to the server as it runs now: in the embedded profile it restarts, on another port, after each command. */
const api = (user: TestUser) => new RestClient(cli.server.url, user.token);
const chat = () => `/mirror/api/groups/${team}/chat`;
const ok = (answer: { status: number; body: unknown }) => expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);

async function send(user: TestUser, content: string, parentMessageId?: string): Promise<string> {
  const sent = await api(user).post(`${chat()}/messages`, { content, parentMessageId });
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  return sent.body.data.message.id;
}

/** Everything the read models show of the team, to each member, through the API. */
async function seen() {
  const get = async (user: TestUser, path: string) => {
    const answer = await api(user).get(path);
    expect(answer.status, `${path}: ${JSON.stringify(answer.body)}`).toBe(200);
    return answer.body.data;
  };
  const groups = async (user: TestUser) => (await get(user, '/mirror/api/groups')).groups.filter((g: { id: string }) => g.id !== busy);
  return {
    groups: { alice: await groups(alice), bob: await groups(bob), carol: await groups(carol) },
    group: await get(alice, `/mirror/api/groups/${team}`),
    history: { alice: await get(alice, `${chat()}/messages?limit=100`), bob: await get(bob, `${chat()}/messages?limit=100`) },
    thread: await get(bob, `${chat()}/messages/${ids.root}/thread`),
    pinned: await get(alice, `${chat()}/pinned`),
    search: await get(bob, `${chat()}/search?q=plan`),
    unread: await get(bob, `${chat()}/unread-count`),
    preferences: await get(bob, `${chat()}/preferences`),
  };
}

beforeAll(async () => {
  const url = cli.server.url;
  [alice, bob, carol] = [await registerUser(url, 'alice'), await registerUser(url, 'bob'), await registerUser(url, 'carol')];
  team = await groupWith(alice, [bob, carol], 'Launch');
  busy = await groupWith(alice, [], 'Busy');
  ids.root = await send(alice, 'the launch plan: friday at noon');
  ids.reply = await send(bob, 'sounds like a plan', ids.root);
  ids.second = await send(carol, 'count me in', ids.root);
  ids.mention = await send(alice, `@${bob.username} can you check the plan?`);
  ok(await api(bob).put(`${chat()}/messages/${ids.reply}`, { content: 'sounds like a good plan' }));
  ok(await api(carol).post(`${chat()}/messages/${ids.root}/reactions`, { emoji: '👍' }));
  ok(await api(bob).post(`${chat()}/messages/${ids.root}/reactions`, { emoji: '🎉' }));
  ok(await api(bob).post(`${chat()}/messages/${ids.mention}/reactions`, { emoji: '👀' }));
  ok(await api(bob).delete(`${chat()}/messages/${ids.mention}/reactions/${encodeURIComponent('👀')}`));
  ok(await api(alice).post(`${chat()}/messages/${ids.root}/pin`, { note: 'the plan' }));
  ok(await api(alice).post(`${chat()}/messages/${ids.mention}/pin`, {}));
  ok(await api(alice).delete(`${chat()}/messages/${ids.mention}/pin`));
  ok(await api(bob).post(`${chat()}/messages/read`, { messageIds: [ids.root, ids.mention] }));
  ids.oops = await send(carol, 'oops, wrong plan');
  ok(await api(carol).delete(`${chat()}/messages/${ids.oops}`));
  ok(await api(carol).delete(`/mirror/api/groups/${team}/members/${carol.id}`));
  ok(await api(bob).put(`${chat()}/preferences`, { muted: true, notifyLevel: 'mentions' }));
  ok(await api(alice).post(`/mirror/api/groups/${busy}/chat/messages`, { content: 'first plan of the busy group' }));

  before = await seen();
  // What the comparisons below rest on: the history shows in every read model it touched.
  expect(before.thread.messages.map((m: { id: string }) => m.id)).toEqual([ids.reply, ids.second]);
  expect(before.search.results.map((r: { message: { id: string } }) => r.message.id).sort()).toEqual([ids.root, ids.reply, ids.mention].sort());
  expect(before.groups.carol).toEqual([]);
});

it('rebuilds every read model into what the live projector made, the API answering throughout', async () => {
  const during: string[] = [];
  const rebuilt = await cli.besideServer(async () => {
    const run = projections('rebuild');
    if (profile === 'embedded') return run;
    // Beside the running server: reads and writes go on, and the projector hands its lock over for the tail.
    let finished = false;
    void run.then(() => (finished = true));
    while (!finished) {
      ok(await api(alice).get(`${chat()}/messages?limit=10`));
      if (during.length < 8) {
        const sent = await api(alice).post(`/mirror/api/groups/${busy}/chat/messages`, { content: `written during the rebuild ${during.length}` });
        expect(sent.status, JSON.stringify(sent.body)).toBe(201);
        during.push(sent.body.data.message.id);
      }
    }
    return run;
  });
  expect(rebuilt.code, rebuilt.stderr).toBe(0);
  expect(rebuilt.stdout).toContain(`Rebuilt ${rebuildSet().map((p) => p.name).join(', ')}:`);
  expect(rebuilt.stdout).toMatch(/Swapped in: .*mirror_group_messages/);

  expect(await seen()).toEqual(before);
  if (profile === 'full') {
    expect(cli.server.logs.some((line) => line.includes('"reason":"asked to yield"'))).toBe(true);
    // Nothing written meanwhile is lost to the swap, and the projector leads again afterwards.
    ok(await api(alice).post(`/mirror/api/groups/${busy}/chat/messages`, { content: 'written after the rebuild' }));
    const history = await api(alice).get(`/mirror/api/groups/${busy}/chat/messages?limit=100`);
    expect(history.body.data.messages.map((m: { id: string }) => m.id)).toEqual(expect.arrayContaining(during));
    expect(history.body.data.messages).toHaveLength(during.length + 2);
  }
});

/** The read models' database, opened directly (embedded: only while the server is stopped). */
async function onReadModels<T>(use: (db: Kysely<any>) => Promise<T>): Promise<T> {
  const db = profile === 'full' ? openMysqlDb(cli.backends.env.READ_DB_URL!) : await openPgliteDb(join(cli.backends.dataDir, 'pglite'));
  try {
    return await use(db);
  } finally {
    await db.destroy();
  }
}

it('verifies the live read models against a rebuild, and names the rows changed behind its back', async () => {
  const [same, different] = await cli.besideServer(async () => {
    const same = await projections('verify', '--json');
    await onReadModels(async (db) => {
      await db.updateTable('mirror_group_messages').set({ thread_reply_count: 7 }).where('id', '=', ids.root).execute();
      await db.deleteFrom('mirror_group_message_reactions').where('message_id', '=', ids.root).where('user_id', '=', carol.id).execute();
    });
    return [same, await projections('verify')];
  });

  expect(same.code, same.stdout + same.stderr).toBe(0);
  const report = JSON.parse(same.stdout);
  expect(report.ok).toBe(true);
  expect(report.tables.map((t: { table: string }) => t.table)).toEqual(expect.arrayContaining(['mirror_group_messages', 'mirror_group_members', 'mirror_projection_stream_revisions']));
  for (const table of report.tables) {
    expect(table).toMatchObject({ missing: { count: 0 }, extra: { count: 0 }, differing: { count: 0 } });
    expect(table.rebuiltRows).toBe(table.liveRows);
  }
  expect(report.tables.find((t: { table: string }) => t.table === 'mirror_group_messages').liveRows).toBeGreaterThanOrEqual(5);

  expect(different.code, different.stdout + different.stderr).toBe(1);
  expect(different.stdout).toContain(`mirror_group_messages, 1 differing: id=${ids.root}`);
  expect(different.stdout).toContain(`mirror_group_message_reactions, 1 missing (rebuilt, not live): message_id=${ids.root} emoji=👍 user_id=${carol.id}`);
  expect(different.stdout).toContain(`2 of ${report.tables.length} tables differ from what the log rebuilds.`);
  // Verify reports; it changes nothing.
  const thread = await api(alice).get(`${chat()}/messages?limit=100`);
  expect(thread.body.data.messages.find((m: { id: string }) => m.id === ids.root).threadReplyCount).toBe(7);
});

it('resumes a stopped rebuild where it stopped, and status tells how far everything has got', async () => {
  const set = rebuildSet('reads').map((p) => p.name);
  expect(set).toEqual(expect.arrayContaining(['groups', 'messages', 'reads', 'mentions']));
  const [status, resumed] = await cli.besideServer(async () => {
    // A rebuild stopped after its second batch, as Ctrl-C stops one.
    const backends = await openBackends(parseConfig(cli.backends.env), createLogger('warn', new Writable({ write: (_c, _e, done) => done() })), 'test');
    try {
      const stop = new AbortController();
      const { readDb: db, eventStore, crypto, bus, lock } = backends;
      const stopped = rebuild({ db, eventStore, crypto, bus, lock, logger: console }, {
        projection: 'reads',
        batchSize: 5,
        signal: stop.signal,
        onProgress: ({ done }) => done >= 10 && stop.abort(),
      });
      await expect(stopped).rejects.toBeInstanceOf(ReplayInterrupted);
    } finally {
      await backends.close();
    }
    return [await projections('status', '--json'), await projections('rebuild', '--projection', 'reads', '--json')];
  });

  expect(status.code, status.stderr).toBe(0);
  const { head, projections: checkpoints, rebuild: unfinished } = JSON.parse(status.stdout);
  for (const name of set) expect(checkpoints.find((p: { projection: string }) => p.projection === name)).toEqual({ projection: name, checkpoint: head.position, behind: 0, lagSeconds: 0 });
  expect(unfinished.projections.map((p: { projection: string }) => p.projection).sort()).toEqual([...set].sort());
  expect(unfinished.behind).toBeGreaterThan(0);

  expect(resumed.code, resumed.stderr).toBe(0);
  expect(resumed.stderr).toContain('Resuming the unfinished rebuild from position');
  const result = JSON.parse(resumed.stdout);
  expect(result.projections).toEqual(set);
  expect(result.tables).toEqual(expect.arrayContaining(['mirror_group_messages', 'mirror_group_message_reactions', 'mirror_group_members']));
  expect(result.tables).not.toContain('mirror_group_message_search');
  // Only what the stopped run had not replayed (and what was written since: nothing here).
  expect(result.events).toBe(unfinished.behind);
  // The rows changed behind the server's back are as the log says again.
  expect(await seen()).toEqual(before);
});

it('stops at an event that cannot be projected, naming it, and leaves the live read models be', async () => {
  const streamId = groupStreamId(busy);
  const { failed, tampered } = await cli.besideServer(async () => {
    const db = profile === 'full' ? openPostgresDb(cli.backends.env.EVENTSTORE_URL!) : await openPgliteDb(join(cli.backends.dataDir, 'pglite'));
    let tampered: { event_type: string; transaction_id: string; global_seq: string };
    try {
      // One bit of the busy group's first message flipped: it no longer opens.
      const { rows } = await sql<typeof tampered>`
        update mirror_events set data = set_byte(data, 20, get_byte(data, 20) # 1)
        where stream_id = ${streamId} and revision = 2
        returning event_type, transaction_id::text as transaction_id, global_seq::text as global_seq`.execute(db);
      tampered = rows[0]!;
    } finally {
      await db.destroy();
    }
    return { tampered, failed: await projections('rebuild', '--projection', 'search', '--restart') };
  });

  expect(failed.code).toBe(1);
  expect(failed.stdout).toBe('');
  const position = encodePosition(tampered.transaction_id, tampered.global_seq);
  expect(failed.stderr).toContain(`Stopped at an event that failed to project: ${tampered.event_type} ${streamId}@2 (position ${position}), opening it:`);
  expect(failed.stderr).toContain('run the command again to resume once the cause is fixed');
  expect(await seen()).toEqual(before);
});
