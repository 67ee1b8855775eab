/** What the server's log says about each request an operator would look up: one line, once answered. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';
import { groupWith, registerUser, type TestUser } from '../support/client.js';

let server: TestServer;
let alice: TestUser;

beforeAll(async () => {
  server = await startTestServer();
  alice = await registerUser(server.url, 'alice');
});
afterAll(() => server?.stop());

/** Every log line about the requests to `path`. */
function linesAbout(path: string): Array<Record<string, any>> {
  const entries = server.logs.map((line) => JSON.parse(line) as Record<string, any>);
  const ids = new Set(entries.filter((e) => e.req?.url === path).map((e) => e.reqId));
  return entries.filter((e) => ids.has(e.reqId) && /request/.test(e.msg));
}

describe('the request log', () => {
  it('writes one line a request, once answered: method, path without its query, client address, status and time', async () => {
    const groupId = await groupWith(alice);
    expect((await alice.api.get(`/mirror/api/groups/${groupId}/chat/search?q=whisperedsecret`)).status).toBe(200);
    const lines = linesAbout(`/mirror/api/groups/${groupId}/chat/search`);
    expect(lines).toEqual([expect.objectContaining({ msg: 'request completed', req: expect.objectContaining({ method: 'GET', remoteAddress: '127.0.0.1' }), res: { statusCode: 200 } })]);
    expect(lines[0]!.responseTime).toBeGreaterThan(0);
    expect(server.logs.join('\n')).not.toContain('whisperedsecret');
  });

  it('logs refused requests the same way', async () => {
    expect((await alice.api.get('/mirror/api/groups/not-a-group/chat/search?q=x')).status).toBe(400);
    expect(linesAbout('/mirror/api/groups/not-a-group/chat/search')).toEqual([expect.objectContaining({ msg: 'request completed', res: { statusCode: 400 } })]);
  });
});
