/**
 * Search over a history longer than the newest rows it reads in order and than one slice of the index: common, rare
 * and mid-frequency words are found wherever they sit, newest first, and pages never repeat or skip a hit.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../../src/domain/search/query.js';
import { groupStreamId } from '../../../src/infra/crypto/event-sealing.js';
import { BUCKET_SPAN } from '../../../src/projections/search.js';
import { searchMessages, decodeSearchCursor, type SearchCursor } from '../../../src/projections/queries/search.js';
import { append, messageSent, seedGroup, seedUser, untilProjected, useProjectedReadSide, type ReadSide } from '../../support/read-side.js';

let side: ReadSide;
useProjectedReadSide((opened) => (side = opened));

/** Two slices and a little more: the newest rows, the index's newest slice and an older one are all searched. */
const MESSAGES = BUCKET_SPAN + 1000;
/** Where the rare word stands: in the oldest slice, in the newest one below the rows read in order, and among them. */
const RARE_AT = [10, BUCKET_SPAN - 1, BUCKET_SPAN + 500, MESSAGES - 3];
const EVERY_MID = 97;
const APPEND_BATCH = 1000;

const contentOf = (n: number) =>
  [`message ${n} chatter`, n % EVERY_MID === 0 ? 'midword' : '', RARE_AT.includes(n) ? 'zyzzyva' : ''].filter(Boolean).join(' ');

describe('a long history', () => {
  let groupId: string;
  let viewerId: number;

  beforeAll(async () => {
    const owner = await seedUser(side, 'owner');
    viewerId = owner.userId;
    let position: string;
    ({ groupId, position } = await seedGroup(side, owner.userId));
    // The group's stream opens with two membership events: a message's place is its index plus two.
    for (let from = 0; from < MESSAGES; from += APPEND_BATCH) {
      const batch = Array.from({ length: Math.min(APPEND_BATCH, MESSAGES - from) }, (_, i) => messageSent(groupId, owner.userId, contentOf(from + i)));
      ({ position } = await append(side, groupStreamId(groupId), batch));
    }
    await untilProjected(side, position, 60_000);
  }, 120_000);

  /** Every page of `q`, newest first, `limit` at a time: the contents' message numbers in the order found. */
  const allPages = async (q: string, limit: number, sort: 'newest' | 'relevance' = 'newest') => {
    const found: number[] = [];
    let cursor: SearchCursor | null = null;
    for (let pages = 0; pages < 1000; pages++) {
      const page = await searchMessages(side, { groupId, viewerId, query: parseSearchQuery(q), limit, sort, cursor });
      expect(page.results.length).toBeLessThanOrEqual(limit);
      found.push(...page.results.map((r) => Number(/^message (\d+)/.exec(r.message.content)![1])));
      if (!page.pagination.nextCursor) return found;
      cursor = decodeSearchCursor(page.pagination.nextCursor);
    }
    throw new Error('pages never ended');
  };

  it('finds a rare word in every slice, newest first, page after page', async () => {
    expect(await allPages('zyzzyva', 1)).toEqual([...RARE_AT].reverse());
    expect(await allPages('zyzz', 3)).toEqual([...RARE_AT].reverse());
  });

  it('finds a mid-frequency word and a common one without repeating or skipping', async () => {
    const mids = Array.from({ length: MESSAGES }, (_, n) => n).filter((n) => n % EVERY_MID === 0).reverse();
    expect(await allPages('midword', 20)).toEqual(mids);
    expect(await allPages('midword chatter', 50)).toEqual(mids);
    // Either word may be the one the index looks up; the other is tested on what it finds.
    expect(await allPages('chatter midword', 50)).toEqual(mids);
    const newest = await allPages('chatter', 100).then((all) => all.slice(0, 250));
    expect(newest).toEqual(Array.from({ length: 250 }, (_, i) => MESSAGES - 1 - i));
  });

  it('reads a cursor past the newest message (its messages deleted since, or made up) as the top of the history', async () => {
    for (const q of ['zyzzyva', 'chatter']) {
      const page = (cursor: SearchCursor | null) => searchMessages(side, { groupId, viewerId, query: parseSearchQuery(q), limit: 5, sort: 'newest', cursor });
      expect(await page({ sort: 'newest', belowSeq: 999_999_999_999_999 })).toEqual(await page(null));
    }
  });

  it('ranks by relevance over the newest matches', async () => {
    const ranked = await allPages('midword', 7, 'relevance');
    expect([...ranked].sort((a, b) => b - a)).toEqual(Array.from({ length: MESSAGES }, (_, n) => n).filter((n) => n % EVERY_MID === 0).reverse());
  });
});
