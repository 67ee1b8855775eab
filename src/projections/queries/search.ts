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
import { bucketOf } from '../search.js';
import { loginKey } from '../users.js';
import { openMessageBody, selectChatMessages, type ChatMessage } from './chat-message.js';
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

interface Hit {
  id: string;
  seq: number;
  content: string;
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
      .map((hit) => ({ hit, score: relevance(hit.content, input.query) }))
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

/** Up to `wanted` confirmed matches, newest first, all below `belowSeq` when given. */
async function findHits(ctx: ReadContext, input: SearchInput, wanted: number, belowSeq: number | null): Promise<Hit[]> {
  const db = readDb(ctx);
  const { groupId, query } = input;
  const filters = await filtersOf(db, groupId, query);
  if (filters === null) return [];
  const terms = candidateTerms(query);
  const keys = terms.length > 0 ? await ctx.crypto.searchKeys(groupKeyScope(groupId)) : [];
  // From the newest place, which the (group_id, seq) index gives at once: no index leads with the bucket.
  const newest = await db
    .selectFrom('mirror_group_message_search')
    .select((s) => s.fn.max('seq').as('seq'))
    .where('group_id', '=', groupId)
    .executeTakeFirst();
  if (newest?.seq == null) return [];
  const newestBucket = bucketOf(Number(newest.seq));

  const hits: Hit[] = [];
  // Without words every message passing the filters is a hit: one window spans the whole history.
  let high = belowSeq === null ? newestBucket : Math.min(newestBucket, bucketOf(belowSeq));
  let width = terms.length > 0 ? 1 : high + 1;
  let below = belowSeq;
  while (high >= 0 && hits.length < wanted) {
    const low = Math.max(0, high - width + 1);
    let candidates = db
      .selectFrom('mirror_group_message_search as s')
      .innerJoin('mirror_group_messages as m', 'm.id', 's.message_id')
      .select(['s.message_id', 's.seq', 'm.body_sealed'])
      .where('s.group_id', '=', groupId)
      .where('s.bucket', '>=', low)
      .where('s.bucket', '<=', high)
      .where('m.is_deleted', '=', false)
      .where((eb) => eb.and(filters))
      .orderBy('s.seq', 'desc')
      .limit(CANDIDATE_BATCH);
    if (below !== null) candidates = candidates.where('s.seq', '<', below);
    if (terms.length > 0) candidates = candidates.where(tokenMatch(db, terms, keys, low, high));
    const rows = await candidates.execute();
    for (const row of rows) {
      if (!row.body_sealed) continue;
      const { content } = await openMessageBody(ctx.crypto, groupId, row.message_id, row.body_sealed);
      if (matchesText(content, query)) hits.push({ id: row.message_id, seq: Number(row.seq), content });
      if (hits.length === wanted) break;
    }
    if (rows.length === CANDIDATE_BATCH) {
      below = Number(rows[rows.length - 1]!.seq);
      continue;
    }
    high = low - 1;
    width *= 2;
    below = null;
  }
  return hits;
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

/** Every group of alternatives must match: one token per alternative, key version and slice in the window. */
function tokenMatch(db: ReadDb, terms: string[][], keys: SearchKey[], low: number, high: number): Expression<SqlBool> {
  const tokensOf = (alternatives: string[]) => {
    const tokens = new Set<string>();
    for (const term of alternatives) for (const { key } of keys) for (let b = low; b <= high; b++) tokens.add(blindToken(key, b, term));
    return [...tokens];
  };
  const groups = terms.map(tokensOf);
  if (sqlFlavor(db) === 'mysql') {
    const expression = groups.map((tokens) => `+(${tokens.join(' ')})`).join(' ');
    return sql<SqlBool>`match(s.tokens) against (${expression} in boolean mode)`;
  }
  const expression = groups.map((tokens) => `(${tokens.join(' | ')})`).join(' & ');
  return sql<SqlBool>`s.tokens @@ to_tsquery('simple', ${expression})`;
}

/** The page's messages as the viewer sees them, in the order found, each with its snippet. */
async function withMessages(ctx: ReadContext, input: SearchInput, hits: Hit[]): Promise<SearchResult[]> {
  if (hits.length === 0) return [];
  const db = readDb(ctx);
  const rows = await selectChatMessages(db)
    .where('m.group_id', '=', input.groupId)
    .where('m.id', 'in', hits.map((h) => h.id))
    .execute();
  const messages = new Map((await toChatMessages(db, ctx.crypto, rows, input.viewerId)).map((m) => [m.id, m]));
  return hits.flatMap((hit) => {
    const message = messages.get(hit.id);
    return message ? [{ message, snippet: snippet(hit.content, input.query) }] : [];
  });
}
