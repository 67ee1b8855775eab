/**
 * Resume after reconnect: a socket that rejoins a group with `lastMessageId` gets, in order, the message, edit and
 * delete frames it missed — the ones live members got — then live frames, with no gap and no duplicate; past the
 * bound it is told `chat:resync_required` instead.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatSocket, groupWith, registerUser, type Frame, type TestUser } from '../support/client.js';
import { freshBackends, startTestServer, type TestBackends, type TestServer } from '../support/server.js';

/** Small, so that passing it takes a few sends. */
const MAX_MISSED = 8;
const MESSAGE_FRAMES = new Set(['chat:message', 'chat:message_edited', 'chat:message_deleted']);

let backends: TestBackends;
let server: TestServer;
let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
const sockets: ChatSocket[] = [];

beforeAll(async () => {
  backends = await freshBackends();
  backends.env.WS_RESUME_MAX_EVENTS = String(MAX_MISSED);
  // Bob's drops are short: presence keeps counting him connected, so offline delivery sends him nothing on connect.
  server = await startTestServer({ backends, presenceGraceMs: 60_000 });
  [alice, bob, carol] = (await Promise.all(['alice', 'bob', 'carol'].map((name) => registerUser(server.url, name)))) as [TestUser, TestUser, TestUser];
});
afterAll(async () => {
  sockets.forEach((s) => s.close());
  await server?.stop();
  await backends?.drop();
});

async function connect(user: TestUser): Promise<ChatSocket> {
  const socket = await ChatSocket.open(server.wsUrl, user.token);
  sockets.push(socket);
  return socket;
}

async function drop(socket: ChatSocket): Promise<void> {
  socket.close();
  await socket.waitClosed();
}

const chat = (groupId: string) => `/mirror/api/groups/${groupId}/chat/messages`;

async function send(user: TestUser, groupId: string, content: string, parentMessageId?: string): Promise<string> {
  const { status, body } = await user.api.post(chat(groupId), { content, ...(parentMessageId ? { parentMessageId } : {}) });
  expect(status).toBe(201);
  return body.data.message.id;
}

async function edit(user: TestUser, groupId: string, messageId: string, content: string): Promise<void> {
  expect((await user.api.put(`${chat(groupId)}/${messageId}`, { content })).status).toBe(200);
}

/** Rejoins with `lastMessageId`; once the pong is in, every frame the join sent has arrived. */
async function resume(socket: ChatSocket, groupId: string, lastMessageId: string, requestId = 'resume'): Promise<void> {
  socket.send({ type: 'chat:join_group', payload: { groupId, lastMessageId }, requestId });
  await socket.settle();
}

/** The message frames a socket holds, taken out of it. */
function messageFrames(socket: ChatSocket): Frame[] {
  const taken = socket.frames.filter((f) => MESSAGE_FRAMES.has(f.type));
  socket.frames.splice(0, socket.frames.length, ...socket.frames.filter((f) => !MESSAGE_FRAMES.has(f.type)));
  return taken;
}

const sentIds = (frames: Frame[]) => frames.filter((f) => f.type === 'chat:message').map((f) => f.payload.message.id as string);

describe('resume after reconnect', () => {
  it('replays exactly what was missed, as live members got it, then live frames without duplicates', async () => {
    const groupId = await groupWith(alice, [bob, carol]);
    const [b, c] = [await connect(bob), await connect(carol)];
    await b.join(groupId);
    await c.join(groupId);
    const older = await send(alice, groupId, 'older, edited after the drop');
    const seen = await send(alice, groupId, 'the last bob saw');
    await b.next((f) => f.type === 'chat:message' && f.payload.message.id === seen);
    await c.next((f) => f.type === 'chat:message' && f.payload.message.id === seen);
    messageFrames(c);
    await drop(b);

    const first = await send(alice, groupId, 'first missed');
    const doomed = await send(carol, groupId, 'deleted while bob was away');
    await alice.api.post(`${chat(groupId)}/${first}/reactions`, { emoji: '👍' });
    await edit(alice, groupId, older, 'older, now edited');
    await edit(alice, groupId, first, 'first missed, edited');
    expect((await carol.api.delete(`${chat(groupId)}/${doomed}`)).status).toBe(200);
    const reply = await send(carol, groupId, 'a reply', first);
    // Carol stayed: what she got live is what bob missed.
    const replied = await c.next((f) => f.type === 'chat:message' && f.payload.message.id === reply);
    const live = [...messageFrames(c), replied];
    expect(live.map((f) => f.type)).toEqual([
      'chat:message',
      'chat:message',
      'chat:message_edited',
      'chat:message_edited',
      'chat:message_deleted',
      'chat:message',
    ]);

    const again = await connect(bob);
    await resume(again, groupId, seen);
    // The text of a message deleted since is not handed out again.
    const expected = live.map((f) =>
      f.type === 'chat:message' && f.payload.message.id === doomed ? { ...f, payload: { ...f.payload, message: { ...f.payload.message, content: '', metadata: {} } } } : f,
    );
    expect(messageFrames(again)).toEqual(expected);
    expect(expected[5]!.payload.message.metadata.replyPreview).toMatchObject({ messageId: first, content: 'first missed, edited' });

    const after = await send(alice, groupId, 'live again');
    await again.next((f) => f.type === 'chat:message' && f.payload.message.id === after);
    expect(messageFrames(again)).toEqual([]);
  });

  it('loses and repeats nothing of sends racing the rejoin', async () => {
    const groupId = await groupWith(alice, [bob]);
    let again = await connect(bob);
    await again.join(groupId);
    let last = await send(alice, groupId, 'seen');
    await again.next((f) => f.type === 'chat:message' && f.payload.message.id === last);

    for (let round = 0; round < 3; round++) {
      await drop(again);
      await send(alice, groupId, `round ${round}: missed 1`);
      await send(alice, groupId, `round ${round}: missed 2`);
      again = await connect(bob);
      // Three senders, each one message after the other, and the rejoin sent once `round % 3` of theirs are in: some
      // land in each step of the rejoin — before the socket listens, while what it missed is read, and after.
      let acked = 0;
      let rejoined: Promise<void> | undefined;
      const rejoin = () => (rejoined ??= resume(again, groupId, last));
      const racing = Promise.all(
        [0, 1, 2].map(async (sender) => {
          for (let i = 0; i < 2; i++) {
            if (acked === round % 3) void rejoin();
            await send(alice, groupId, `round ${round}: racing ${sender}.${i}`);
            acked++;
          }
        }),
      );
      await racing;
      await rejoin();
      const marker = await send(alice, groupId, `round ${round}: marker`);
      await again.next((f) => f.type === 'chat:message' && f.payload.message.id === marker, 10_000);

      const { body } = await bob.api.get(`${chat(groupId)}?cursor=${last}&direction=after&limit=50`);
      const inOrder = body.data.messages.map((m: { id: string }) => m.id);
      expect(inOrder).toHaveLength(9);
      // The marker was taken out above; everything before it came exactly once, in the group's order.
      expect([...sentIds(messageFrames(again)), marker]).toEqual(inOrder);
      last = marker;
    }
  });

  it('answers chat:resync_required past the bound, and live frames still follow', async () => {
    const groupId = await groupWith(alice, [bob]);
    const b = await connect(bob);
    await b.join(groupId);
    const seen = await send(alice, groupId, 'seen');
    await b.next((f) => f.type === 'chat:message' && f.payload.message.id === seen);
    await drop(b);

    // Exactly the bound: four messages and four edits are still replayed.
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await send(alice, groupId, `missed ${i}`));
    for (const id of ids) await edit(alice, groupId, id, 'edited');
    const atBound = await connect(bob);
    await resume(atBound, groupId, seen);
    expect(messageFrames(atBound)).toHaveLength(MAX_MISSED);
    expect(atBound.frames.filter((f) => f.type === 'chat:resync_required')).toEqual([]);
    await drop(atBound);

    // One more event is one too many.
    await edit(alice, groupId, ids[0]!, 'edited twice');
    const past = await connect(bob);
    await resume(past, groupId, seen, 'r-past');
    expect(past.frames.find((f) => f.type === 'chat:resync_required')).toEqual({
      type: 'chat:resync_required',
      payload: { groupId, reason: 'too_many_missed_events' },
      requestId: 'r-past',
    });
    expect(messageFrames(past)).toEqual([]);
    const after = await send(alice, groupId, 'live after resync');
    await past.next((f) => f.type === 'chat:message' && f.payload.message.id === after);
  });

  it('refuses a lastMessageId that is no message of the group', async () => {
    const groupId = await groupWith(alice, [bob]);
    const otherGroup = await groupWith(alice, [bob]);
    const elsewhere = await send(alice, otherGroup, 'in another group');
    const b = await connect(bob);
    for (const lastMessageId of [elsewhere, '0190b2c4-0000-7000-8000-000000000000']) {
      b.send({ type: 'chat:join_group', payload: { groupId, lastMessageId }, requestId: 'r-unknown' });
      const error = await b.nextOfType('error');
      expect(error.payload).toMatchObject({ code: 'NOT_FOUND', requestId: 'r-unknown' });
    }
    b.send({ type: 'chat:join_group', payload: { groupId, lastMessageId: 'not-an-id' }, requestId: 'r-bad' });
    expect((await b.nextOfType('error')).payload).toMatchObject({ code: 'VALIDATION_ERROR', requestId: 'r-bad' });
  });
});
