/**
 * `mirror-chat keys …` as an operator runs it: a child process on the server's own configuration. In the full
 * profile it runs beside the server, which hears of the change on the bus; in the embedded profile DATA_DIR belongs
 * to one process, so the server stops while the command runs and starts again after.
 */
import { randomUUID } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createLogger } from '../../src/api/logger.js';
import { openBackends } from '../../src/cli/backends.js';
import { parseConfig } from '../../src/cli/config.js';
import { groupStreamId, openEvent } from '../../src/infra/crypto/event-sealing.js';
import { KeyShreddedError } from '../../src/infra/crypto/group-encryption-manager.js';
import { profile } from '../support/backends.js';
import { runCli, useCliServer } from '../support/cli.js';
import { RestClient, groupWith, registerUser, type TestUser } from '../support/client.js';
import { eventually } from '../support/read-side.js';
import { freshBackends, startTestServer } from '../support/server.js';

const file = useCliServer();
const { besideServer } = file;

/** `mirror-chat keys <args>` on `env` (the test server's by default). */
const keys = (args: string[], env = file.backends.env) => runCli(['keys', ...args], env);


/** The user's client on the server as it runs now (an embedded server listens on a new port after a restart). */
const client = (user: TestUser) => new RestClient(file.server.url, user.token);

/** In the full profile the server hears of the change on the bus; waits until it has, so the next request sees it. */
async function serverHeardOf(groupId: string): Promise<void> {
  if (profile === 'full') await eventually(() => file.server.logs.some((line) => line.includes('keys changed elsewhere') && line.includes(groupId)));
}

async function contents(user: TestUser, groupId: string): Promise<string[]> {
  const listed = await client(user).get(`/mirror/api/groups/${groupId}/chat/messages?limit=50`);
  expect(listed.status).toBe(200);
  return listed.body.data.messages.map((m: { content: string }) => m.content);
}

it('rotates a group key: messages from before and after it read back, and new ones use the new version', async () => {
  const alice = await registerUser(file.server.url, 'alice');
  const groupId = await groupWith(alice);
  expect((await client(alice).post(`/mirror/api/groups/${groupId}/chat/messages`, { content: 'before rotation' })).status).toBe(201);

  const rotated = await besideServer(() => keys(['rotate', '--group', groupId, '--json']));
  expect(rotated.code, rotated.stderr).toBe(0);
  expect(JSON.parse(rotated.stdout)).toEqual({ groupId, version: 2 });
  await serverHeardOf(groupId);

  expect((await client(alice).post(`/mirror/api/groups/${groupId}/chat/messages`, { content: 'after rotation' })).status).toBe(201);
  expect(await contents(alice, groupId)).toEqual(['before rotation', 'after rotation']);

  const again = await besideServer(() => keys(['rotate', '--group', groupId]));
  expect(again.code, again.stderr).toBe(0);
  expect(again.stdout).toContain(`Group ${groupId}: new data is sealed with key version 3`);
  await serverHeardOf(groupId);
  const events = await besideServer(async () => {
    const opened = await openBackends(parseConfig(file.backends.env), createLogger('silent'), 'the test');
    try {
      return await opened.eventStore.readStream(groupStreamId(groupId));
    } finally {
      await opened.close();
    }
  });
  const versions = events.map((e) => Buffer.from(e.data).readUInt32BE(1));
  expect([versions[0], versions.at(-1)]).toEqual([1, 2]);
});

it('answers an unknown group, or a malformed id, with an error and a non-zero exit', async () => {
  const unknown = randomUUID();
  const run = await besideServer(() => keys(['rotate', '--group', unknown]));
  expect(run).toMatchObject({ code: 1, stdout: '' });
  expect(run.stderr).toContain(`No group ${unknown}`);
  const malformed = await keys(['shred', '--group', 'not-a-group', '--yes']);
  expect(malformed.code).not.toBe(0);
  expect(malformed.stderr).toContain('must be a group id (UUID)');
});

it('refuses to shred without --yes when there is no terminal to confirm on', async () => {
  const alice = await registerUser(file.server.url, 'alice');
  const groupId = await groupWith(alice);
  await client(alice).post(`/mirror/api/groups/${groupId}/chat/messages`, { content: 'still here' });

  const refused = await keys(['shred', '--group', groupId]);
  expect(refused).toMatchObject({ code: 1, stdout: '' });
  expect(refused.stderr).toContain(`Refusing to shred group ${groupId} without --yes`);
  expect(await contents(alice, groupId)).toEqual(['still here']);
});

it("shreds a group with --yes: its history opens nowhere, and other groups are untouched", async () => {
  const alice = await registerUser(file.server.url, 'alice');
  const [doomed, kept] = [await groupWith(alice), await groupWith(alice)];
  await client(alice).post(`/mirror/api/groups/${doomed}/chat/messages`, { content: 'doomed words' });
  await client(alice).post(`/mirror/api/groups/${kept}/chat/messages`, { content: 'kept words' });

  const shredded = await besideServer(() => keys(['shred', '--group', doomed, '--yes', '--json']));
  expect(shredded.code, shredded.stderr).toBe(0);
  expect(JSON.parse(shredded.stdout)).toEqual({ groupId: doomed, shredded: true, alreadyShredded: false });
  await serverHeardOf(doomed);

  for (const path of ['messages', 'search?q=doomed']) {
    const read = await client(alice).get(`/mirror/api/groups/${doomed}/chat/${path}`);
    expect(read.status, path).toBe(404);
    expect(read.body.error, path).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('shredded') });
    expect(JSON.stringify(read.body)).not.toContain('doomed words');
  }
  const send = await client(alice).post(`/mirror/api/groups/${doomed}/chat/messages`, { content: 'more' });
  expect(send.body.error).toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('shredded') });
  expect(await contents(alice, kept)).toEqual(['kept words']);

  await besideServer(async () => {
    const opened = await openBackends(parseConfig(file.backends.env), createLogger('silent'), 'the test');
    try {
      const events = await opened.eventStore.readStream(groupStreamId(doomed));
      expect(events.length).toBeGreaterThan(0);
      for (const event of events) await expect(openEvent(opened.crypto, event)).rejects.toBeInstanceOf(KeyShreddedError);
    } finally {
      await opened.close();
    }
  });
  const rotate = await besideServer(() => keys(['rotate', '--group', doomed]));
  expect(rotate.code).toBe(1);
  expect(rotate.stderr).toContain(`Group ${doomed} was shredded`);
});

it("refuses to run on an embedded server's DATA_DIR while that server runs", async () => {
  const own = await freshBackends('embedded');
  const running = await startTestServer({ backends: own });
  try {
    const refused = await keys(['rotate', '--group', randomUUID()], own.env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`the server (pid ${process.pid}) is running on DATA_DIR ${own.dataDir}; stop it first`);
  } finally {
    await running.stop();
    await own.drop();
  }
});

it('rotates the master key: every message reads under the new one alone', async () => {
  const alice = await registerUser(file.server.url, 'alice');
  const groupId = await groupWith(alice);
  await client(alice).post(`/mirror/api/groups/${groupId}/chat/messages`, { content: 'under the old master key' });
  const newKeyFile = join(file.backends.dataDir, 'new-master.key');
  const keyFile = profile === 'embedded' ? join(file.backends.dataDir, 'master.key') : newKeyFile;
  const oldKey = profile === 'embedded' ? (await readFile(keyFile, 'utf8')).trim() : file.backends.env.MASTER_KEY!;

  if (profile === 'full') {
    const refused = await keys(['rotate-master']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('MASTER_KEY is set');
  }
  const rotated = await besideServer(() => keys(profile === 'embedded' ? ['rotate-master', '--json'] : ['rotate-master', '--new-key-file', newKeyFile, '--json']));
  expect(rotated.code, rotated.stderr).toBe(0);
  const result = JSON.parse(rotated.stdout);
  expect(result.keyFile).toBe(keyFile);
  expect(result.rewrapped).toBeGreaterThanOrEqual(2);
  expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
  const newKey = (await readFile(keyFile, 'utf8')).trim();
  expect(Buffer.from(newKey, 'base64')).toHaveLength(32);
  expect(newKey).not.toBe(oldKey);

  if (profile === 'full') {
    // What the operator does next: the new key in MASTER_KEY, and later no previous key at all.
    Object.assign(file.backends.env, { MASTER_KEY: newKey, MASTER_KEY_PREVIOUS: oldKey });
    await file.server.close();
    file.server = await startTestServer({ backends: file.backends });
    delete file.backends.env.MASTER_KEY_PREVIOUS;
    await file.server.close();
    file.server = await startTestServer({ backends: file.backends });
  }
  // Sign-in tokens derived from the master key (embedded, no JWT_SECRET) change with it: sign in again.
  const login = await new RestClient(file.server.url).post('/mirror/api/auth/login', { username: alice.username, password: 'correct horse battery' });
  expect(login.status).toBe(200);
  expect(await contents({ ...alice, token: login.body.data.token }, groupId)).toEqual(['under the old master key']);
});
