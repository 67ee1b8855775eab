/**
 * `mirror-chat keys shred` beside running servers (the full profile: the embedded one's server is stopped for it): the
 * sockets that joined the group are told at once, as a removed member is, instead of finding out from their next frame.
 */
import { expect, it } from 'vitest';
import { runCli, useCliServer } from '../support/cli.js';
import { ChatSocket, groupWith, registerUser } from '../support/client.js';

const file = useCliServer();

it('tells the sockets joined to a shredded group, which then hear nothing more of it; other groups carry on', async () => {
  const [alice, bob] = [await registerUser(file.server.url, 'alice'), await registerUser(file.server.url, 'bob')];
  const [doomed, kept] = [await groupWith(alice, [bob]), await groupWith(alice, [bob])];
  const socket = await ChatSocket.open(file.server.wsUrl, bob.token);
  try {
    await socket.join(doomed);
    await socket.join(kept);

    const shredded = await runCli(['keys', 'shred', '--group', doomed, '--yes'], file.backends.env);
    expect(shredded.code, shredded.stderr).toBe(0);
    const notice = await socket.nextOfType('error');
    expect(notice.payload).toMatchObject({ code: 'NOT_FOUND', groupId: doomed, message: expect.stringContaining('shredded') });

    await alice.api.post(`/mirror/api/groups/${kept}/chat/messages`, { content: 'still here' });
    const message = await socket.next((f) => f.type === 'chat:message');
    expect(message.payload).toMatchObject({ groupId: kept, message: { content: 'still here' } });
    socket.send({ type: 'chat:send_message', payload: { groupId: doomed, content: 'anyone?' }, requestId: 'after' });
    expect((await socket.nextOfType('error')).payload).toMatchObject({ code: 'NOT_FOUND', requestId: 'after' });
  } finally {
    socket.close();
  }
});
