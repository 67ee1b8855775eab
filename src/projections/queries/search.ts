/**
 * Search over the blind index (projections/search.ts). The query's words become keyed tokens for each slice of the
 * group's history and each search-key version; the database finds candidates by token, newest slice first, widening
 * the window of slices until the page is full; each candidate is then confirmed on its decrypted text (phrases,
 * prefixes longer than the index keeps, token collisions), and given a highlighted snippet.
 */
import { sql, type Expression, type SqlBool } from 'kysely';
import { candidateTerms } from '../../domain/search/index-terms.js';
import { matchesText, relevance, type SearchQuery } from '../../domain/search/query.js';
import { snippet, type Snippet } from '../../domain/search/snippet.js';
import { blindToken } from '../../infra/crypto/blind-index.js';
import { groupKeyScope } from '../../infra/crypto/event-sealing.js';
import type { SearchKey } from '../../infra/crypto/group-encryption-manager.js';
import { sqlFlavor } from '../../infra/sql/dialect.js';
import type { ReadDb } from '../schema.js';
import { BUCKET_SPAN, bucketOf } from '../search.js';
import { loginKey } from '../users.js';
import { openMessageBody, selectChatMessages, type ChatMessage, type ChatMessageRow, type MessageBody } from './chat-message.js';
import { readDb, type ReadContext } from './context.js';
import { toChatMessages } from './message-details.js';

/** Where the next page starts: below a message's place (newest first), or past a rank (relevance). */
export type SearchCursor = { sort: 'newest'; belowSeq: number } | { sort: 'relevance'; offset: number };

export interface SearchInput {
  groupId: string;
  viewerId: number;
  query: SearchQuery;
  limit: number;
  sort: 'newest' | 'relevance';
  cursor: SearchCursor | null;
}

export interface SearchResult {
  message: ChatMessage;
  snippet: Snippet;
}

export interface SearchPage {
  results: SearchResult[];
  pagination: { hasMore: boolean; nextCursor: string | null };
}

/**
 * Relevance ranks the newest this many matches: ranking a word found in a million messages would mean decrypting them
 * all, and the best match of a chat search is nearly always a recent one.
 */
const RELEVANCE_WINDOW = 500;
/** Candidates fetched per round trip. */
const CANDIDATE_BATCH = 200;
/**
 * The newest messages read in order before the full-text index is asked: enough that a word in one message of twenty
 * fills a page among them, few enough that reading them costs less than listing a common word's postings.
 */
const RECENT_ROWS = 400;
/** Bodies fetched per round trip at the least while confirming candidates. */
const MIN_BODIES = 20;

interface Candidate {
  message_id: string;
  seq: number | string | bigint;
}

/** A confirmed match: its row and its body, opened to confirm it, are what its page shows. */
interface Hit {
  row: ChatMessageRow;
  seq: number;
  body: MessageBody;
}

function encodeSearchCursor(cursor: SearchCursor): string {
  return cursor.sort === 'newest' ? `n${cursor.belowSeq}` : `r${cursor.offset}`;
}

/** The cursor a page handed out, or null when `text` is not one. */
export function decodeSearchCursor(text: string): SearchCursor | null {
  const match = /^([nr])(\d{1,15})$/.exec(text);
  if (!match) return null;
  const value = Number(match[2]);
  return match[1] === 'n' ? { sort: 'newest', belowSeq: value } : { sort: 'relevance', offset: value };
}

export async function searchMessages(ctx: ReadContext, input: SearchInput): Promise<SearchPage> {
  const { limit, sort, cursor } = input;
  let hits: Hit[];
  let nextCursor: SearchCursor | null = null;
  if (sort === 'relevance') {
    const ranked = (await findHits(ctx, input, RELEVANCE_WINDOW, null))
      .map((hit) => ({ hit, score: relevance(hit.body.content, input.query) }))
      .sort((a, b) => b.score - a.score || b.hit.seq - a.hit.seq)
      .map(({ hit }) => hit);
    const offset = cursor?.sort === 'relevance' ? cursor.offset : 0;
    hits = ranked.slice(offset, offset + limit + 1);
    if (hits.length > limit) nextCursor = { sort: 'relevance', offset: offset + limit };
  } else {
    hits = await findHits(ctx, input, limit + 1, cursor?.sort === 'newest' ? cursor.belowSeq : null);
    if (hits.length > limit) nextCursor = { sort: 'newest', belowSeq: hits[limit - 1]!.seq };
  }
  const page = hits.slice(0, limit);
  return {
    results: await withMessages(ctx, input, page),
    pagination: { hasMore: nextCursor !== null, nextCursor: nextCursor && encodeSearchCursor(nextCursor) },
  };
}

/**
 * Up to `wanted` confirmed matches, newest first, all below `belowSeq` when given. Two ways in, by what is cheap for
 * which words: the newest RECENT_ROWS messages are read in order and their tokens tested row by row — a common word
 * fills the page there, where the full-text index would have to list every message of the slice holding it; below
 * them the full-text index looks up the tokens slice by slice, newest first, in windows that double until the page is
 * full — rare words, which have few postings per slice, are found there.
 */
async function findHits(ctx: ReadContext, input: SearchInput, wanted: number, belowSeq: number | null): Promise<Hit[]> {
  const db = readDb(ctx);
  const { groupId, query } = input;
  const terms = candidateTerms(query);
  // Asked together, as none waits on another. The newest place is where the rows read in order start when no cursor
  // says (the tokens to test are the slices'); filters alone read from the newest message down, and need none.
  const [filters, keys, newest] = await Promise.all([
    filtersOf(db, groupId, query),
    terms.length > 0 ? ctx.crypto.searchKeys(groupKeyScope(groupId)) : [],
    terms.length > 0 && belowSeq === null ? newestSeq(db, groupId) : undefined,
  ]);
  if (filters === null || newest === null) return [];
  let below = belowSeq ?? (newest === undefined ? Infinity : newest + 1);

  const hits: Hit[] = [];
  /** Candidates (in seq order, newest first) whose decrypted text confirms them become hits, until the page is full. */
  const confirm = async (candidates: Candidate[]) => {
    for (let i = 0; i < candidates.length && hits.length < wanted; ) {
      // Bodies for about as many candidates as hits are missing, since most candidates are hits; not fewer than a
      // few, for a long word behind a common stem, whose candidates mostly are not.
      const chunk = candidates.slice(i, i + Math.max(wanted - hits.length, MIN_BODIES));
      i += chunk.length;
      // The rows a page shows, not just their bodies: a hit's row and opened body make its result (withMessages).
      const rows = await selectChatMessages(db)
        .where('m.group_id', '=', groupId)
        .where('m.id', 'in', chunk.map((c) => c.message_id))
        .execute();
      const byId = new Map(rows.map((row) => [row.id, row]));
      for (const { message_id, seq } of chunk) {
        const row = byId.get(message_id);
        if (!row?.body_sealed) continue;
        const body = await openMessageBody(ctx.crypto, groupId, message_id, row.body_sealed);
        if (matchesText(body.content, query) && hits.length < wanted) hits.push({ row, seq: Number(seq), body });
      }
    }
  };
  const candidatesIn = (lowSeq: number, lowBucket: number, highBucket: number, tokenTest: TokenTest) => {
    let candidates = db
      .selectFrom('mirror_group_message_search as s')
      .select(['s.message_id', 's.seq'])
      .where('s.group_id', '=', groupId)
      .$if(below !== Infinity, (q) => q.where('s.seq', '<', below))
      .where((eb) => eb.and(filters))
      .orderBy('s.seq', 'desc')
      .limit(CANDIDATE_BATCH);
    if (lowSeq > 0) candidates = candidates.where('s.seq', '>=', lowSeq);
    if (terms.length > 0) candidates = candidates.where(tokenTest(db, terms, keys, lowBucket, highBucket));
    return candidates.execute();
  };

  // Without words every message passing the filters is a hit: the newest below the cursor, read in order.
  if (terms.length === 0) {
    for (;;) {
      const rows = await candidatesIn(0, 0, 0, containsTokens);
      await confirm(rows);
      if (hits.length >= wanted || rows.length < CANDIDATE_BATCH) return hits;
      below = Number(rows.at(-1)!.seq);
    }
  }

  const recentFloor = Math.max(0, below - RECENT_ROWS);
  const recent = await candidatesIn(recentFloor, bucketOf(recentFloor), bucketOf(below - 1), containsTokens);
  await confirm(recent);
  if (hits.length >= wanted || recentFloor === 0) return hits;
  if (recent.length === 0 && belowSeq !== null) {
    // Nothing below the cursor among these rows: it may lie past the newest message (deleted since, or a cursor made
    // up), and the windows must start from a place that exists, or they would widen over slices that do not.
    const newest = await newestSeq(db, groupId);
    if (newest === null) return hits;
    below = Math.min(recentFloor, newest + 1);
  } else {
    // A recent slice that held more candidates than one batch is read on through the index like any other.
    below = recent.length === CANDIDATE_BATCH ? Number(recent.at(-1)!.seq) : recentFloor;
  }

  let high = bucketOf(below - 1);
  let width = 1;
  while (high >= 0 && hits.length < wanted) {
    const low = Math.max(0, high - width + 1);
    const rows = await candidatesIn(low * BUCKET_SPAN, low, high, matchesTokens);
    await confirm(rows);
    if (rows.length === CANDIDATE_BATCH) {
      below = Number(rows.at(-1)!.seq);
      continue;
    }
    below = low * BUCKET_SPAN;
    high = low - 1;
    width *= 2;
  }
  return hits;
}

/** The group's newest place in the index, which the (group_id, seq) index gives at once; null when it has none. */
async function newestSeq(db: ReadDb, groupId: string): Promise<number | null> {
  const newest = await db
    .selectFrom('mirror_group_message_search')
    .select((s) => s.fn.max('seq').as('seq'))
    .where('group_id', '=', groupId)
    .executeTakeFirst();
  return newest?.seq == null ? null : Number(newest.seq);
}

/** The filters as conditions on the index's columns; null when they can match nothing (an unknown sender). */
async function filtersOf(db: ReadDb, groupId: string, query: SearchQuery): Promise<Expression<SqlBool>[] | null> {
  const conditions: Expression<SqlBool>[] = [];
  if (query.from !== undefined) {
    const sender = await db.selectFrom('mirror_users').select('id').where('username_key', '=', loginKey(query.from)).executeTakeFirst();
    if (!sender) return null;
    conditions.push(sql<SqlBool>`s.sender_user_id = ${sender.id}`);
  }
  // Dates are whole UTC days: before:D is earlier than D, after:D later than D.
  if (query.before !== undefined) conditions.push(sql<SqlBool>`s.created_at < ${new Date(`${query.before}T00:00:00.000Z`)}`);
  if (query.after !== undefined) {
    const nextDay = new Date(`${query.after}T00:00:00.000Z`);
    nextDay.setUTCDate(nextDay.getUTCDate() + 1);
    conditions.push(sql<SqlBool>`s.created_at >= ${nextDay}`);
  }
  if (query.inThread === true) conditions.push(sql<SqlBool>`s.thread_root_id is not null`);
  else if (query.inThread !== undefined) conditions.push(sql<SqlBool>`(s.thread_root_id = ${query.inThread} or s.message_id = ${query.inThread})`);
  if (query.hasLink) conditions.push(sql<SqlBool>`s.has_link = ${true}`);
  return conditions;
}

type TokenTest = (db: ReadDb, terms: string[][], keys: SearchKey[], low: number, high: number) => Expression<SqlBool>;

/** For each group of alternatives, its tokens: one per alternative, key version and slice in the window. */
function tokenGroups(terms: string[][], keys: SearchKey[], low: number, high: number): string[][] {
  return terms.map((alternatives) => {
    const tokens = new Set<string>();
    for (const term of alternatives) for (const { key } of keys) for (let b = low; b <= high; b++) tokens.add(blindToken(key, b, term));
    return [...tokens];
  });
}

/** Every group of alternatives must match, looked up in the full-text index. */
const matchesTokens: TokenTest = (db, terms, keys, low, high) => {
  const groups = tokenGroups(terms, keys, low, high);
  if (sqlFlavor(db) === 'mysql') {
    const expression = groups.map((tokens) => `+(${tokens.join(' ')})`).join(' ');
    return sql<SqlBool>`match(s.tokens) against (${expression} in boolean mode)`;
  }
  return sql<SqlBool>`s.tokens @@ to_tsquery('simple', ${tsQuery(groups)})`;
};

/** The same test on each row read, without the full-text index (PostgreSQL evaluates a tsquery either way). */
const containsTokens: TokenTest = (db, terms, keys, low, high) => {
  const groups = tokenGroups(terms, keys, low, high);
  if (sqlFlavor(db) !== 'mysql') return sql<SqlBool>`s.tokens @@ to_tsquery('simple', ${tsQuery(groups)})`;
  // Tokens are space-separated and of one length, so a token found between spaces is that token.
  const padded = sql`concat(' ', s.tokens, ' ')`;
  const anyOf = (tokens: string[]) => sql.join(tokens.map((token) => sql`locate(${` ${token} `}, ${padded}) > 0`), sql` or `);
  return sql<SqlBool>`(${sql.join(groups.map((tokens) => sql`(${anyOf(tokens)})`), sql` and `)})`;
};

const tsQuery = (groups: string[][]) => groups.map((tokens) => `(${tokens.join(' | ')})`).join(' & ');

/** The page's messages as the viewer sees them, in the order found, each with its snippet. */
async function withMessages(ctx: ReadContext, input: SearchInput, hits: Hit[]): Promise<SearchResult[]> {
  const opened = new Map(hits.map((hit) => [hit.row.id, hit.body]));
  const messages = await toChatMessages(readDb(ctx), ctx.crypto, hits.map((hit) => hit.row), input.viewerId, opened);
  return hits.map((hit, i) => ({ message: messages[i]!, snippet: snippet(hit.body.content, input.query) }));
}
