/**
 * `mirror-chat users|groups|seed-demo` as an operator runs them: child processes on the server's own configuration,
 * beside the server in the full profile, while it is stopped in the embedded one (DATA_DIR has one owner). What they
 * create is then checked through the API, as the people they created.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { runCli, useCliServer } from '../support/cli.js';
import { RestClient, registerUser } from '../support/client.js';
import { freshBackends, startTestServer } from '../support/server.js';

/** Each test starts child processes from source, and the embedded server restarts around them. */
const SLOW = 120_000;
const PASSWORD = 'a long passphrase';

const file = useCliServer();
const { besideServer } = file;

const cli = (args: string[], input?: string) => runCli(args, file.backends.env, input);
const createUser = (username: string, ...more: string[]) =>
  cli(['users', 'create', '--username', username, '--email', `${username}@example.test`, '--password-stdin', ...more], `${PASSWORD}\n`);


/**
 * Waits until the server's read models hold everything written so far: registering answers once its own event is
 * projected, and the log orders it after everything the CLI wrote before.
 */
async function caughtUp(): Promise<void> {
  await registerUser(file.server.url, 'barrier');
}

/** The cells of each row of a table as the CLI draws it (box-drawing borders), rules left out. */
const cells = (drawn: string) =>
  drawn
    .trim()
    .split('\n')
    .filter((line) => line.startsWith('│'))
    .map((line) => line.split('│').slice(1, -1).map((cell) => cell.trim()));

async function signIn(username: string, password = PASSWORD): Promise<RestClient> {
  const api = new RestClient(file.server.url);
  const login = await api.post('/mirror/api/auth/login', { username, password });
  expect(login.status, JSON.stringify(login.body)).toBe(200);
  api.token = login.body.data.token;
  return api;
}

it('creates a user who can then log in, printed as a table or as JSON', async () => {
  const [table, json] = await besideServer(async () => [await createUser('quinn'), await createUser('robin', '--json')]);
  expect(table.code, table.stderr).toBe(0);
  expect(cells(table.stdout)).toEqual([
    ['id', 'username', 'email'],
    [expect.stringMatching(/^\d+$/), 'quinn', 'quinn@example.test'],
  ]);
  expect(json.code, json.stderr).toBe(0);
  const robin = JSON.parse(json.stdout);
  expect(robin).toEqual({ id: expect.any(Number), username: 'robin', email: 'robin@example.test' });

  await caughtUp();
  const me = await (await signIn('robin')).get('/mirror/api/groups');
  expect(me.status).toBe(200);
  const wrong = await new RestClient(file.server.url).post('/mirror/api/auth/login', { username: 'quinn', password: 'not the password' });
  expect(wrong.status).toBe(401);
}, SLOW);

it('refuses what registration refuses, and a password it cannot ask for, creating nothing', async () => {
  const [first, taken, badEmail, badName, shortPassword, noTerminal] = await besideServer(async () => [
    await createUser('sasha'),
    await cli(['users', 'create', '--username', 'SASHA', '--email', 'other@example.test', '--password-stdin'], `${PASSWORD}\n`),
    await cli(['users', 'create', '--username', 'taylor', '--email', 'not-an-email', '--password-stdin'], `${PASSWORD}\n`),
    await cli(['users', 'create', '--username', 'x', '--email', 'x@example.test', '--password-stdin'], `${PASSWORD}\n`),
    await cli(['users', 'create', '--username', 'uma', '--email', 'uma@example.test', '--password-stdin'], 'short\n'),
    await cli(['users', 'create', '--username', 'vera', '--email', 'vera@example.test']),
  ]);
  expect(first.code, first.stderr).toBe(0);
  expect(taken).toMatchObject({ code: 1, stdout: '' });
  expect(taken.stderr).toContain('username is already taken');
  expect(badEmail.code).not.toBe(0);
  expect(badEmail.stderr).toContain('must be an email address');
  expect(badName.code).not.toBe(0);
  expect(badName.stderr).toContain('must be 3 to 32 letters');
  expect(shortPassword).toMatchObject({ code: 1, stdout: '' });
  expect(shortPassword.stderr).toContain('The password must be at least 8 characters');
  expect(noTerminal).toMatchObject({ code: 1, stdout: '' });
  expect(noTerminal.stderr).toContain('no terminal to type the password on');

  await caughtUp();
  for (const username of ['taylor', 'uma', 'vera']) {
    const login = await new RestClient(file.server.url).post('/mirror/api/auth/login', { username, password: PASSWORD });
    expect(login.status, username).toBe(401);
  }
}, SLOW);

it('creates a group and adds members by username or id; the API shows them to its members', async () => {
  const { group, added, unchanged, unknown } = await besideServer(async () => {
    // Right after their creation, before any server projected them: found in the users stream.
    for (const name of ['wanda', 'xavier']) expect((await createUser(name)).code).toBe(0);
    const yara = JSON.parse((await createUser('yara', '--json')).stdout);
    const created = await cli(['groups', 'create', '--name', 'Night shift', '--owner', 'Wanda', '--json']);
    expect(created.code, created.stderr).toBe(0);
    const group = JSON.parse(created.stdout);
    const admin = await cli(['groups', 'add-member', '--group', group.id, '--user', 'xavier', '--role', 'admin', '--json']);
    expect(JSON.parse(admin.stdout)).toMatchObject({ username: 'xavier', role: 'admin', changed: true });
    const added = await cli(['groups', 'add-member', '--group', group.id, '--user', String(yara.id)]);
    const unchanged = await cli(['groups', 'add-member', '--group', group.id, '--user', 'yara']);
    const unknown = await cli(['groups', 'add-member', '--group', group.id, '--user', 'nobody']);
    return { group, added, unchanged, unknown };
  });
  expect(group).toEqual({ id: expect.any(String), name: 'Night shift', owner: { id: expect.any(Number), username: 'wanda' } });
  expect(added.code, added.stderr).toBe(0);
  expect(cells(added.stdout)).toEqual([
    ['group', 'user', 'role'],
    [group.id, expect.stringMatching(/^yara \(\d+\)$/), 'member'],
  ]);
  expect(unchanged.code, unchanged.stderr).toBe(0);
  expect(unchanged.stdout).toContain('already is a member');
  expect(unknown).toMatchObject({ code: 1, stdout: '' });
  expect(unknown.stderr).toContain('No user nobody');

  await caughtUp();
  const listed = await (await signIn('wanda')).get('/mirror/api/groups');
  expect(listed.body.data.groups).toEqual([expect.objectContaining({ id: group.id, name: 'Night shift', role: 'owner' })]);
  const shown = await (await signIn('yara')).get(`/mirror/api/groups/${group.id}`);
  expect(shown.status).toBe(200);
  expect(shown.body.data.group.members.map((m: { username: string; role: string }) => [m.username, m.role])).toEqual([
    ['wanda', 'owner'],
    ['xavier', 'admin'],
    ['yara', 'member'],
  ]);
}, SLOW);

it('answers an unknown group with an error and a non-zero exit', async () => {
  const unknown = randomUUID();
  const run = await besideServer(() => cli(['groups', 'add-member', '--group', unknown, '--user', '1']));
  expect(run).toMatchObject({ code: 1, stdout: '' });
  expect(run.stderr).toContain(`No group ${unknown}`);
}, SLOW);

it('seeds the demo: its people find their groups with threads, mentions, reactions, pins, an edit and a delete; a second run refuses', async () => {
  const first = await besideServer(() => cli(['seed-demo', '--json']));
  expect(first.code, first.stderr).toBe(0);
  const seeded = JSON.parse(first.stdout);
  expect(seeded.users.map((u: { username: string }) => u.username)).toEqual(['ada', 'grace', 'linus', 'margaret']);
  expect(seeded.groups).toHaveLength(3);

  await caughtUp();
  const ada = await signIn('ada', seeded.password);
  const groups = (await ada.get('/mirror/api/groups')).body.data.groups;
  expect(groups.map((g: { name: string }) => g.name).sort()).toEqual(['Coffee corner', 'Design review', 'Launch crew']);
  const everything = [];
  for (const group of seeded.groups) {
    const page = await ada.get(`/mirror/api/groups/${group.id}/chat/messages?limit=50`);
    const messages = page.body.data.messages;
    expect(messages, group.name).toHaveLength(group.messages);
    expect(messages.some((m: { reactions: unknown[] }) => m.reactions.length > 0), group.name).toBe(true);
    expect(messages.some((m: { threadReplyCount?: number }) => (m.threadReplyCount ?? 0) > 0), group.name).toBe(true);
    const pinned = await ada.get(`/mirror/api/groups/${group.id}/chat/pinned`);
    expect(pinned.body.data.messages, group.name).toHaveLength(1);
    everything.push(...messages);
  }
  expect(everything.filter((m) => m.isEdited)).toHaveLength(1);
  expect(everything.filter((m) => m.isDeleted)).toHaveLength(1);
  expect(everything.filter((m) => m.metadata?.mentions?.length > 0).length).toBeGreaterThanOrEqual(3);
  const margaret = await signIn('margaret', seeded.password);
  const unread = (await margaret.get('/mirror/api/groups')).body.data.groups;
  expect(unread.every((g: { unreadCount: number }) => g.unreadCount > 0)).toBe(true);

  const second = await besideServer(() => cli(['seed-demo']));
  expect(second).toMatchObject({ code: 1, stdout: '' });
  expect(second.stderr).toContain("The demo's usernames ada, grace, linus, margaret are taken");
  await caughtUp();
  // An embedded server listens on a new port after its restart.
  expect((await (await signIn('ada', seeded.password)).get('/mirror/api/groups')).body.data.groups).toHaveLength(3);
}, SLOW);

it("refuses to run on an embedded server's DATA_DIR while that server runs, and runs once it stopped", async () => {
  const own = await freshBackends('embedded');
  try {
    const running = await startTestServer({ backends: own });
    const refused = await runCli(['seed-demo'], own.env).finally(() => running.close());
    expect(refused).toMatchObject({ code: 1, stdout: '' });
    expect(refused.stderr).toContain(`the server (pid ${process.pid}) is running on DATA_DIR ${own.dataDir}; stop it first`);

    const seeded = await runCli(['seed-demo'], { ...own.env, HOST: '0.0.0.0', PORT: '4123' });
    expect(seeded.code, seeded.stderr).toBe(0);
    expect(seeded.stdout).toContain('Seeded the demo: 4 users, 3 groups');
    expect(seeded.stdout).toContain(
      `curl -s http://localhost:4123/mirror/api/auth/login -H 'content-type: application/json' -d '{"username":"ada","password":"demo passphrase"}'`,
    );
  } finally {
    await own.drop();
  }
}, SLOW);
