/**
 * `mirror-chat audit …` as an operator runs it: a child process on the server's own configuration, once the server
 * has stopped (in the embedded profile DATA_DIR has one owner; in the full one it makes no difference). Tampering is
 * done as an intruder would, on the event store's rows behind the server's back.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { auditColumns, type AuditRow } from '../../src/cli/audit/history.js';
import { groupStreamId } from '../../src/infra/crypto/event-sealing.js';
import { chain, linkOf, NO_LINK } from '../../src/infra/event-store/hash-chain.js';
import { openPgliteDb } from '../../src/infra/sql/pglite/index.js';
import { openPostgresDb } from '../../src/infra/sql/postgres/index.js';
import { profile } from '../support/backends.js';
import { runCli } from '../support/cli.js';
import { groupWith, registerUser, type TestUser } from '../support/client.js';
import { freshBackends, startTestServer, type TestBackends } from '../support/server.js';

let backends: TestBackends;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
/** A group where everything happens that can. */
let team: string;
let doomed: string;
/** Groups whose stored events the last test tampers with. */
let altered: string;
let truncated: string;
let relinked: string;
let cut: string;
const ids: Record<string, string> = {};

const LONG = 'Minutes of the planning meeting: we agreed to ship the audit commands first, then the projections.';

// Every run is a process of its own that opens the backends: seconds each, several per test.
vi.setConfig({ testTimeout: 120_000 });

const audit = (...args: string[]) => runCli(['audit', ...args], backends.env);
const who = (user: TestUser) => `${user.username} (#${user.id})`;

beforeAll(async () => {
  backends = await freshBackends();
  const server = await startTestServer({ backends });
  try {
    [alice, bob, carol] = [await registerUser(server.url, 'alice'), await registerUser(server.url, 'bob'), await registerUser(server.url, 'carol')];
    team = await groupWith(alice, [bob], 'Launch');
    const chat = `/mirror/api/groups/${team}/chat`;
    const send = async (user: TestUser, content: string, parentMessageId?: string) => {
      const sent = await user.api.post(`${chat}/messages`, { content, parentMessageId });
      expect(sent.status).toBe(201);
      return sent.body.data.message.id as string;
    };
    const ok = (answer: { status: number; body: unknown }) => expect(answer.status, JSON.stringify(answer.body)).toBeLessThan(300);
    ok(await alice.api.post(`/mirror/api/groups/${team}/members`, { userId: carol.id, role: 'admin' }));
    ids.hello = await send(alice, 'hello team');
    ids.reply = await send(bob, 'hi alice', ids.hello);
    ok(await bob.api.put(`${chat}/messages/${ids.reply}`, { content: 'hi alice!' }));
    ok(await carol.api.post(`${chat}/messages/${ids.hello}/reactions`, { emoji: '👍' }));
    ok(await carol.api.post(`${chat}/messages/${ids.hello}/pin`, { note: 'welcome' }));
    ok(await alice.api.post(`${chat}/messages/read`, { messageIds: [ids.reply] }));
    ids.oops = await send(bob, 'oops, wrong group');
    ok(await alice.api.delete(`${chat}/messages/${ids.oops}`));
    ok(await carol.api.delete(`${chat}/messages/${ids.hello}/reactions/${encodeURIComponent('👍')}`));
    ok(await carol.api.delete(`${chat}/messages/${ids.hello}/pin`));
    ids.long = await send(carol, LONG);
    ok(await alice.api.delete(`/mirror/api/groups/${team}/members/${carol.id}`));
    ok(await bob.api.put(`${chat}/preferences`, { muted: true, notifyLevel: 'mentions' }));

    doomed = await groupWith(alice, [], 'Doomed');
    ok(await alice.api.post(`/mirror/api/groups/${doomed}/chat/messages`, { content: 'doomed words' }));
    [altered, truncated, relinked, cut] = [await groupWith(alice), await groupWith(alice), await groupWith(alice), await groupWith(alice)];
    for (const groupId of [altered, truncated, relinked, cut]) {
      for (const n of [1, 2, 3]) ok(await alice.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content: `message ${n}` }));
    }
  } finally {
    await server.close();
  }
});
afterAll(async () => {
  await backends?.drop();
});

async function replayed(groupId: string, ...args: string[]): Promise<AuditRow[]> {
  const run = await audit('replay', '--group', groupId, '--format', 'jsonl', ...args);
  expect(run.code, run.stderr).toBe(0);
  return run.stdout.split('\n').filter(Boolean).map((line) => JSON.parse(line));
}

let teamRows: Promise<AuditRow[]> | undefined;
/** The team's whole history, replayed once for the tests that compare with it. */
const teamHistory = () => (teamRows ??= replayed(team));

/** The cells of a table's body, row by row. */
const tableCells = (table: string) =>
  table
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .slice(1)
    .map((line) => line.split('│').slice(1, -1).map((cell) => cell.trim()));

describe('replay', () => {
  it('tells who did what, in order, in words', async () => {
    const rows = await teamHistory();
    expect(rows.map((r) => r.revision)).toEqual(rows.map((_, i) => i));
    expect(rows.map((r) => [r.actor, r.action, r.details])).toEqual([
      [who(alice), 'created the group', 'Launch'],
      [who(alice), 'joined as owner', ''],
      [who(alice), `added ${who(bob)} as member`, ''],
      [who(alice), `added ${who(carol)} as admin`, ''],
      [who(alice), 'sent', 'hello team'],
      [who(bob), 'replied', 'hi alice'],
      [who(bob), 'edited', 'hi alice!'],
      [who(carol), 'reacted 👍', 'hello team'],
      [who(carol), 'pinned', 'hello team (note: welcome)'],
      [who(alice), 'read a message', ids.reply],
      [who(bob), 'sent', 'oops, wrong group'],
      [who(alice), `deleted a message of ${who(bob)}`, 'oops, wrong group'],
      [who(carol), 'removed reaction 👍', 'hello team'],
      [who(carol), 'unpinned', 'hello team'],
      [who(carol), 'sent', LONG],
      [who(alice), `removed ${who(carol)}`, ''],
      [who(bob), 'set notifications to mentions, muted', ''],
    ]);
    expect(rows[5]).toMatchObject({ type: 'MessageSent', actorUserId: bob.id, messageId: ids.reply });
    const times = rows.map((r) => r.time);
    expect(times).toEqual([...times].sort());

    const table = await audit('replay', '--group', team);
    expect(table.code, table.stderr).toBe(0);
    const cells = tableCells(table.stdout);
    expect(cells.map((c) => c.slice(0, 4))).toEqual(rows.map((r) => [String(r.revision), r.time.slice(0, 19).replace('T', ' '), r.actor, r.action]));
    expect(cells[14]![4]).toMatch(/^Minutes of the planning meeting: .+…$/);
    expect(cells[14]![4]!.length).toBeLessThan(LONG.length);
  });

  it('keeps to --from and --to, dates or date-times', async () => {
    const rows = await teamHistory();
    const [from, to] = [rows[4]!.time, rows[8]!.time];
    const between = await replayed(team, '--from', from, '--to', to);
    expect(between).toEqual(rows.filter((r) => r.time >= from && r.time <= to));
    expect(between.map((r) => r.revision)).toEqual(expect.arrayContaining([4, 5, 6, 7, 8]));
    expect(between.length).toBeLessThan(rows.length);

    const day = rows[0]!.time.slice(0, 10);
    const dayBefore = new Date(Date.parse(day) - 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
    expect(await replayed(team, '--from', day)).toEqual(rows);
    const nothing = await audit('replay', '--group', team, '--to', dayBefore);
    expect(nothing.stdout).toContain('Nothing happened in that time.');

    const malformed = await audit('replay', '--group', team, '--from', 'last tuesday');
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toContain('must be an ISO date');
  });

  it('answers an unknown group with an error', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    const run = await audit('replay', '--group', unknown);
    expect(run).toMatchObject({ code: 1, stdout: '' });
    expect(run.stderr).toContain(`No group ${unknown}`);
  });
});

describe('export', () => {
  const parseCsv = (text: string): string[][] => {
    const records: string[][] = [];
    let record: string[] = [];
    for (const [, quoted, plain, end] of text.matchAll(/(?:"((?:[^"]|"")*)"|([^",\r\n]*))(,|\r\n|$)/g)) {
      record.push(quoted !== undefined ? quoted.replaceAll('""', '"') : plain!);
      if (end !== ',') {
        records.push(record);
        record = [];
        if (end === '') break;
      }
    }
    return records.filter((r) => r.length > 1);
  };

  it('writes the replay rows whole, as JSON lines or CSV, and never over an existing file unless --force', async () => {
    const rows = await teamHistory();
    const jsonl = join(backends.dataDir, 'team.jsonl');
    const wrote = await audit('export', '--group', team, '--out', jsonl);
    expect(wrote.code, wrote.stderr).toBe(0);
    expect(wrote.stdout).toContain(`Wrote ${rows.length} rows (of ${rows.length} events) of group ${team} to ${jsonl} (jsonl)`);
    expect(wrote.stderr).not.toContain('Exporting');
    const lines = (await readFile(jsonl, 'utf8')).split('\n').filter(Boolean);
    expect(lines.map((line) => JSON.parse(line))).toEqual(rows);

    const csv = join(backends.dataDir, 'team.csv');
    const asCsv = await audit('export', '--group', team, '--out', csv, '--json');
    expect(asCsv.code, asCsv.stderr).toBe(0);
    expect(JSON.parse(asCsv.stdout)).toEqual({ groupId: team, file: csv, format: 'csv', rows: rows.length, events: rows.length });
    const [header, ...records] = parseCsv(await readFile(csv, 'utf8'));
    expect(header).toEqual([...auditColumns]);
    const parsed = records.map((r) => Object.fromEntries(header!.map((column, i) => [column, r[i]])));
    expect(parsed.map((r) => ({ ...r, revision: Number(r.revision), actorUserId: r.actorUserId ? Number(r.actorUserId) : null, messageId: r.messageId || null }))).toEqual(rows);

    await writeFile(csv, 'kept');
    const refused = await audit('export', '--group', team, '--out', csv);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${csv} already exists`);
    expect(await readFile(csv, 'utf8')).toBe('kept');
    const forced = await audit('export', '--group', team, '--out', csv, '--format', 'jsonl', '--force', '--from', rows[10]!.time);
    expect(forced.code, forced.stderr).toBe(0);
    const exported = (await readFile(csv, 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(exported).toEqual(rows.filter((r) => r.time >= rows[10]!.time));
  });
});

describe('a shredded group', () => {
  it('replays as placeholders, its event types and times still in clear, and its chain still verifies', async () => {
    const shred = await runCli(['keys', 'shred', '--group', doomed, '--yes'], backends.env);
    expect(shred.code, shred.stderr).toBe(0);

    const rows = await replayed(doomed);
    expect(rows.map((r) => [r.revision, r.type])).toEqual([
      [0, 'GroupCreated'],
      [1, 'MemberAdded'],
      [2, 'MessageSent'],
    ]);
    for (const row of rows) {
      expect(row).toMatchObject({ actorUserId: null, actor: '[shredded]', action: '[shredded]', messageId: null, details: '[shredded]' });
      expect(Number.isNaN(Date.parse(row.time))).toBe(false);
    }
    const table = await audit('replay', '--group', doomed);
    expect(tableCells(table.stdout).map((c) => c.slice(2))).toEqual(rows.map(() => ['[shredded]', '[shredded]', '[shredded]']));
    expect(table.stdout).not.toContain('doomed words');

    const verified = await audit('verify', '--group', doomed);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).toContain(`${groupStreamId(doomed)}: OK, 3 events`);
  });
});

describe('verify', () => {
  it('holds on untouched history, for one group or every stream', async () => {
    const one = await audit('verify', '--group', team, '--json');
    expect(one.code, one.stderr).toBe(0);
    expect(JSON.parse(one.stdout)).toEqual({
      ok: true,
      streams: [{ streamId: groupStreamId(team), events: 17, unchained: 0, head: expect.stringMatching(/^[0-9a-f]{64}$/), broken: null }],
    });

    const all = await audit('verify', '--all', '--json');
    expect(all.code, all.stderr).toBe(0);
    const report = JSON.parse(all.stdout);
    expect(report.ok).toBe(true);
    expect(report.streams.map((s: { streamId: string }) => s.streamId).sort()).toEqual(
      ['users', ...[team, doomed, altered, truncated, relinked, cut].map(groupStreamId)].sort(),
    );
    expect(report.streams.find((s: { streamId: string }) => s.streamId === groupStreamId(team))).toEqual(JSON.parse(one.stdout).streams[0]);

    const text = await audit('verify', '--all');
    expect(text.stdout).toContain('All 7 streams hold.');
  });

  it('requires --group or --all', async () => {
    const run = await audit('verify');
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('Give either --group <id> or --all');
  });

  const earlier = () => join(backends.dataDir, 'verified.json');
  const brokenOf = async (...args: string[]) => {
    const run = await audit('verify', '--all', '--json', ...args);
    expect(run.code, run.stderr).toBe(1);
    const report = JSON.parse(run.stdout);
    expect(report.ok).toBe(false);
    return Object.fromEntries(report.streams.map((s: { streamId: string; broken: unknown }) => [s.streamId, s.broken]));
  };
  const untouched = () => ({ users: null, [groupStreamId(team)]: null, [groupStreamId(doomed)]: null });
  const detected = () => ({
    [groupStreamId(altered)]: expect.objectContaining({ kind: 'altered', revision: 3 }),
    [groupStreamId(truncated)]: expect.objectContaining({ kind: 'missing', revision: 3 }),
  });

  it('reports the first altered event, and a missing one, with exit code 1', async () => {
    // What a careful operator keeps of each check, where the server cannot write (used by the next test).
    await writeFile(earlier(), (await audit('verify', '--all', '--json')).stdout);
    await onEventStore(async (db) => {
      // One bit of revision 3's sealed bytes flipped, and revision 3 of another group gone.
      await sql`update mirror_events set data = set_byte(data, 20, get_byte(data, 20) # 1) where stream_id = ${groupStreamId(altered)} and revision = 3`.execute(db);
      await sql`delete from mirror_events where stream_id = ${groupStreamId(truncated)} and revision = 3`.execute(db);
      // As a careful intruder would: revision 2 altered and the events after it linked anew; another stream's last event dropped.
      await relink(db, groupStreamId(relinked), 2);
      await sql`delete from mirror_events where stream_id = ${groupStreamId(cut)} and revision = 4`.execute(db);
    });

    const one = await audit('verify', '--group', altered);
    expect(one.code).toBe(1);
    expect(one.stdout).toContain(`${groupStreamId(altered)}: BROKEN at revision 3 (altered)`);
    const gap = await audit('verify', '--group', truncated, '--json');
    expect(gap.code).toBe(1);
    expect(JSON.parse(gap.stdout).streams[0]).toMatchObject({ head: null, broken: { kind: 'missing', revision: 3 } });

    expect(await brokenOf()).toEqual({ ...untouched(), ...detected(), [groupStreamId(relinked)]: null, [groupStreamId(cut)]: null });
    expect((await audit('verify', '--all')).stdout).toContain('2 of 7 streams are BROKEN.');
  });

  it('shows a stream linked anew after a change, or cut short, against the output of an earlier check', async () => {
    expect(await brokenOf('--against', earlier())).toEqual({
      ...untouched(),
      ...detected(),
      [groupStreamId(relinked)]: expect.objectContaining({ kind: 'rewritten', revision: 4 }),
      [groupStreamId(cut)]: expect.objectContaining({ kind: 'missing', revision: 4 }),
    });
    const against = await audit('verify', '--group', relinked, '--against', earlier());
    expect(against.code).toBe(1);
    expect(against.stdout).toContain(`${groupStreamId(relinked)}: BROKEN at revision 4 (rewritten)`);
  });
});

/** Alters a stream's event at `revision` and links the events from there on anew, so that the chain holds again. */
async function relink(db: Kysely<any>, streamId: string, revision: number): Promise<void> {
  const { rows } = await sql<{ event_id: string; event_type: string; data: Uint8Array; metadata: Record<string, unknown> }>`
    select event_id::text as event_id, event_type, data, metadata from mirror_events where stream_id = ${streamId} order by revision`.execute(db);
  const events = rows.map((r) => ({ id: r.event_id, type: r.event_type, data: Buffer.from(r.data), metadata: r.metadata }));
  events[revision]!.data[20]! ^= 1;
  const linked = chain(events.slice(0, revision).reduce(linkOf, NO_LINK), events.slice(revision)).events;
  for (const [i, event] of linked.entries()) {
    await sql`update mirror_events set data = ${event.data}, metadata = ${JSON.stringify(event.metadata)}::jsonb
      where stream_id = ${streamId} and revision = ${revision + i}`.execute(db);
  }
}

/** The event store's own database, opened directly: PostgreSQL (full), or the PGlite files under DATA_DIR (embedded). */
async function onEventStore(use: (db: Kysely<any>) => Promise<void>): Promise<void> {
  const db = profile === 'full' ? openPostgresDb(backends.env.EVENTSTORE_URL!) : await openPgliteDb(join(backends.dataDir, 'pglite'));
  try {
    await use(db);
  } finally {
    await db.destroy();
  }
}
