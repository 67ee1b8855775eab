/**
 * Message text is encrypted everywhere it rests: a unique marker sent in a message and in an edit must appear in no
 * file under DATA_DIR, in no row of any backend database, and in no log line — while members still read it.
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { groupWith, registerUser } from '../support/client.js';
import { profile } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let stopped = false;
afterAll(async () => {
  if (!stopped) await server?.stop();
  await server?.backends.drop();
});
beforeAll(async () => {
  server = await startTestServer();
});

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function databaseText(): Promise<string> {
  const chunks: string[] = [];
  const { eventStoreDb, readDb } = server.backends;
  if (eventStoreDb) {
    const client = new pg.Client({ connectionString: eventStoreDb.url });
    await client.connect();
    const tables = await client.query(`select tablename from pg_tables where schemaname = 'public'`);
    for (const { tablename } of tables.rows) {
      const rows = await client.query(`select * from "${tablename}"`);
      chunks.push(rows.rows.map((r) => Object.values(r).map(String).join(' ') + Buffer.concat(Object.values(r).filter(Buffer.isBuffer)).toString('latin1')).join('\n'));
    }
    await client.end();
  }
  if (readDb) {
    const conn = await mysql.createConnection(readDb.url);
    const [tables] = await conn.query<any[]>('show tables');
    for (const t of tables) {
      const [rows] = await conn.query<any[]>(`select * from \`${Object.values(t)[0]}\``);
      chunks.push(rows.map((r) => Object.values(r).map((v) => (Buffer.isBuffer(v) ? v.toString('latin1') : String(v))).join(' ')).join('\n'));
    }
    await conn.end();
  }
  return chunks.join('\n');
}

it('keeps the key-encryption key in DATA_DIR, readable by its owner only, when none is configured', async () => {
  const keyFile = join(server.backends.dataDir, 'master.key');
  if (profile === 'embedded') {
    expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
    expect(server.logs.some((line) => line.includes('created a new master key') && line.includes(keyFile))).toBe(true);
  } else {
    await expect(stat(keyFile)).rejects.toMatchObject({ code: 'ENOENT' });
  }
});

it('keeps message, edit and pin-note text out of every file, database row and log line', async () => {
  const sentMarker = `SENT-MARKER-${randomBytes(8).toString('hex')}`;
  const editMarker = `EDIT-MARKER-${randomBytes(8).toString('hex')}`;
  const pinMarker = `PIN-MARKER-${randomBytes(8).toString('hex')}`;
  const alice = await registerUser(server.url, 'alice');
  const bob = await registerUser(server.url, 'bob');
  const groupId = await groupWith(alice, [bob]);
  const sent = await alice.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content: `hello ${sentMarker}` });
  const reply = await bob.api.post(`/mirror/api/groups/${groupId}/chat/messages`, { content: `re: ${sentMarker}`, parentMessageId: sent.body.data.message.id });
  expect(reply.status).toBe(201);
  await alice.api.put(`/mirror/api/groups/${groupId}/chat/messages/${sent.body.data.message.id}`, { content: `edited ${editMarker}` });
  const pin = await bob.api.post(`/mirror/api/groups/${groupId}/chat/messages/${sent.body.data.message.id}/pin`, { note: `pinned ${pinMarker}` });
  expect(pin.status).toBe(200);

  const listed = await bob.api.get(`/mirror/api/groups/${groupId}/chat/messages`);
  const contents = listed.body.data.messages.map((m: any) => m.content);
  expect(contents).toContain(`edited ${editMarker}`);
  expect(contents).toContain(`re: ${sentMarker}`);
  const pinned = await alice.api.get(`/mirror/api/groups/${groupId}/chat/pinned`);
  expect(pinned.body.data.messages[0].metadata.pinNote).toBe(`pinned ${pinMarker}`);
  // The search index finds the words without holding them: the unique part of each marker is checked below too.
  const found = async (marker: string) =>
    (await bob.api.get(`/mirror/api/groups/${groupId}/chat/search?q=${marker.split('-')[2]}`)).body.data.results.map((r: any) => r.message.content);
  expect(await found(editMarker)).toEqual([`edited ${editMarker}`]);
  expect(await found(sentMarker)).toEqual([`re: ${sentMarker}`]);

  const rows = await databaseText();
  await server.close();
  stopped = true;

  for (const marker of [sentMarker, editMarker, pinMarker]) {
    expect(rows.includes(marker), `marker in a database row`).toBe(false);
    expect(rows.includes(marker.split('-')[2]!), `marker's unique part in a database row`).toBe(false);
    expect(server.logs.filter((line) => line.includes(marker)), 'marker in a log line').toEqual([]);
    for (const file of await filesUnder(server.backends.dataDir)) {
      const bytes = await readFile(file);
      expect(bytes.includes(marker), `marker in ${file}`).toBe(false);
      expect(bytes.includes(Buffer.from(marker, 'utf16le')), `marker in ${file}`).toBe(false);
    }
  }
  expect(server.logs.length).toBeGreaterThan(0);
});
