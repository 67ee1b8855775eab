/**
 * GET …/chat/search as members use it: whole words, prefixes, every term required, phrases, folded case, width,
 * accents and CJK, the filters, snippets, pages that never repeat or skip, edits and deletions followed, and no way in
 * for outsiders or malformed queries.
 */
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { useRooms } from '../support/chat-rooms.js';
import type { TestUser } from '../support/client.js';

let alice: TestUser;
let bob: TestUser;
let carol: TestUser;
let eve: TestUser;
const newRoom = useRooms((cast) => ({ alice, bob, carol, eve } = cast));

async function room() {
  const { groupId, chat } = await newRoom();
  const send = async (from: TestUser, content: string, parentMessageId?: string) => {
    const sent = await from.api.post(`${chat}/messages`, { content, ...(parentMessageId ? { parentMessageId } : {}) });
    expect(sent.status).toBe(201);
    return sent.body.data.message as { id: string; content: string };
  };
  const search = async (q: string, extra: Record<string, string> = {}, as: TestUser = bob) => {
    const answer = await as.api.get(`${chat}/search?${new URLSearchParams({ q, ...extra })}`);
    expect(answer.status).toBe(200);
    return answer.body.data as { results: Array<{ message: any; snippet: { text: string; highlights: Array<{ start: number; end: number }> } }>; pagination: any };
  };
  const found = async (q: string, extra: Record<string, string> = {}) => (await search(q, extra)).results.map((r) => r.message.content);
  return { groupId, chat, send, search, found };
}

describe('matching', () => {
  it('finds whole words and prefixes of three letters or more, every term required, newest first', async () => {
    const { send, found } = await room();
    await send(alice, 'The deployment went fine');
    await send(bob, 'deploy again tomorrow');
    await send(carol, 'nothing to see');
    await send(alice, 'Deployment of the API');
    expect(await found('deployment')).toEqual(['Deployment of the API', 'The deployment went fine']);
    expect(await found('deplo')).toEqual(['Deployment of the API', 'deploy again tomorrow', 'The deployment went fine']);
    expect(await found('dep')).toHaveLength(3);
    expect(await found('de')).toEqual([]);
    expect(await found('ployment')).toEqual([]);
    expect(await found('deployment api')).toEqual(['Deployment of the API']);
    expect(await found('deployment tomorrow')).toEqual([]);
  });

  it('matches a phrase only in order, and folds case, width, accents and CJK', async () => {
    const { send, found } = await room();
    await send(alice, 'Café crème at noon');
    await send(bob, 'crème, then café');
    await send(carol, '日本語のテストです');
    expect(await found('"cafe creme"')).toEqual(['Café crème at noon']);
    expect(await found('CAFÉ')).toEqual(['crème, then café', 'Café crème at noon']);
    expect(await found('ｃａｆｅ')).toHaveLength(2);
    expect(await found('日本語')).toEqual(['日本語のテストです']);
    expect(await found('テスト')).toEqual(['日本語のテストです']);
  });

  it('ranks by relevance when asked, and highlights the words in a snippet', async () => {
    const { send, search } = await room();
    await send(alice, `${'filler '.repeat(40)}the release notes are ready`);
    await send(bob, 'release, release, release!');
    const newest = await search('release');
    expect(newest.results.map((r) => r.message.content)).toEqual(['release, release, release!', expect.stringContaining('release notes')]);
    const { text, highlights } = newest.results[1]!.snippet;
    expect(text.startsWith('…')).toBe(true);
    expect(highlights.map((h) => text.slice(h.start, h.end))).toEqual(['release']);

    const ranked = await search('release notes', { sort: 'relevance' });
    expect(ranked.results.map((r) => r.message.content)).toEqual([expect.stringContaining('release notes')]);
    const byCount = await search('release', { sort: 'relevance' });
    expect(byCount.results[0]!.message.content).toBe('release, release, release!');
  });
});

describe('filters', () => {
  it('narrow by sender, day, thread and links', async () => {
    const { send, found } = await room();
    const root = await send(alice, 'plan for the trip');
    await send(bob, 'trip photos at https://example.com/album', root.id);
    await send(carol, 'another trip idea');
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

    expect(await found(`trip from:${bob.username}`)).toEqual(['trip photos at https://example.com/album']);
    expect(await found(`trip from:${bob.username.toUpperCase()}`)).toHaveLength(1);
    expect(await found('trip from:nobody_here')).toEqual([]);
    expect(await found(`trip after:${yesterday}`)).toHaveLength(3);
    expect(await found(`trip before:${today}`)).toEqual([]);
    expect(await found(`trip after:${today}`)).toEqual([]);
    expect(await found('trip in:thread')).toEqual(['trip photos at https://example.com/album']);
    expect(await found(`in:${root.id}`)).toEqual(['trip photos at https://example.com/album', 'plan for the trip']);
    expect(await found('has:link')).toEqual(['trip photos at https://example.com/album']);
  });
});

describe('pages', () => {
  it('never repeat or skip a hit, in either order', async () => {
    const { send, search } = await room();
    const sent: string[] = [];
    for (let i = 0; i < 7; i++) sent.push((await send(i % 2 ? alice : bob, `status update ${'more '.repeat(i)}`)).id);
    for (const sort of ['newest', 'relevance']) {
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await search('update', { limit: '3', sort, ...(cursor ? { cursor } : {}) });
        expect(page.results.length).toBeLessThanOrEqual(3);
        seen.push(...page.results.map((r) => r.message.id));
        cursor = page.pagination.nextCursor;
        expect(page.pagination.hasMore).toBe(cursor !== null);
      } while (cursor);
      expect([...seen].sort()).toEqual([...sent].sort());
      if (sort === 'newest') expect(seen).toEqual([...sent].reverse());
    }
  });
});

describe('changes', () => {
  it('follow edits and deletions', async () => {
    const { chat, send, found } = await room();
    const message = await send(alice, 'meet at the harbour');
    expect((await alice.api.put(`${chat}/messages/${message.id}`, { content: 'meet at the station' })).status).toBe(200);
    expect(await found('harbour')).toEqual([]);
    expect(await found('station')).toEqual(['meet at the station']);
    expect((await alice.api.delete(`${chat}/messages/${message.id}`)).status).toBe(200);
    expect(await found('station')).toEqual([]);
  });
});

describe('refusals', () => {
  it('keep outsiders out and explain malformed queries', async () => {
    const { chat, send } = await room();
    await send(alice, 'secret plans');
    const outsider = await eve.api.get(`${chat}/search?q=secret`);
    expect(outsider.status).toBe(403);
    expect(outsider.body.error.code).toBe('FORBIDDEN');
    const nowhere = await bob.api.get(`/mirror/api/groups/${randomUUID()}/chat/search?q=secret`);
    expect(nowhere.status).toBe(404);
    expect(nowhere.body.error.code).toBe('NOT_FOUND');
    for (const query of ['', 'q=', 'q=x&limit=101', 'q=x&cursor=zzz', 'q=before:2026-02-31', 'q=has:cats', 'q=x&sort=oldest', 'q=x&cursor=r3']) {
      const answer = await bob.api.get(`${chat}/search?${query}`);
      expect(answer.status, query).toBe(400);
      expect(answer.body.error.code, query).toBe('VALIDATION_ERROR');
    }
  });
});
