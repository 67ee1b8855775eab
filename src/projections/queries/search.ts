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
/** Candidates fetched per round trip at the most. */
const CANDIDATE_BATCH = 200;
/**
 * The newest messages read in order before the full-text index is asked: enough that a word in one message of ten
 * fills a page among them, few enough that reading them costs less than listing a common word's postings (a word
 * rarer than that costs the index little).
 */
const RECENT_ROWS = 200;
/**
 * The newest rows that tell which of several words is the rarest: enough to tell a word in most messages from one in
 * a few, and few, since every query of several words reads them once more.
 */
const SAMPLE_ROWS = 100;
/**
 * How much wider than the recent rows' hit rate says the first full-text window is: a margin for a rate guessed from
 * a few hundred rows, cheap since only a word the recent rows held often makes a window's look-up costly.
 */
const WINDOW_MARGIN = 4;
/** Candidates asked for per hit missing, at first. */
const CANDIDATE_SLACK = 1.5;
/** Candidates fetched per round trip at the least. */
const MIN_BATCH = 20;

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

/** `access`: the caller's check that the viewer may read the group; no message is read before it passes. */
export async function searchMessages(ctx: ReadContext, input: SearchInput, access: Promise<unknown> = Promise.resolve()): Promise<SearchPage> {
  const { limit, sort, cursor } = input;
  let hits: Hit[];
  let nextCursor: SearchCursor | null = null;
  if (sort === 'relevance') {
    const ranked = (await findHits(ctx, input, RELEVANCE_WINDOW, null, access))
      .map((hit) => ({ hit, score: relevance(hit.body.content, input.query) }))
      .sort((a, b) => b.score - a.score || b.hit.seq - a.hit.seq)
      .map(({ hit }) => hit);
    const offset = cursor?.sort === 'relevance' ? cursor.offset : 0;
    hits = ranked.slice(offset, offset + limit + 1);
    if (hits.length > limit) nextCursor = { sort: 'relevance', offset: offset + limit };
  } else {
    hits = await findHits(ctx, input, limit + 1, cursor?.sort === 'newest' ? cursor.belowSeq : null, access);
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
async function findHits(
  ctx: ReadContext,
  input: SearchInput,
  wanted: number,
  belowSeq: number | null,
  access: Promise<unknown>,
): Promise<Hit[]> {
  const db = readDb(ctx);
  const { groupId, query } = input;
  const terms = candidateTerms(query);
  // Asked together with the caller's access check, as none waits on another. The newest place is where the rows read
  // in order start when no cursor says (the tokens to test are the slices'); filters alone read from the newest message
  // down, and need none. The keys only after access: a group's first key would be made for whoever asked.
  const [filters, newest] = await Promise.all([
    filtersOf(db, groupId, query),
    terms.length > 0 && belowSeq === null ? newestSeq(db, groupId) : undefined,
    access,
  ]);
  const keys = terms.length > 0 ? await ctx.crypto.searchKeys(groupKeyScope(groupId)) : [];
  if (filters === null || newest === null) return [];
  let below = belowSeq ?? (newest === undefined ? Infinity : newest + 1);

  const hits: Hit[] = [];
  /**
   * The candidates of a window, newest first, with the rows a page shows: those whose decrypted text confirms them
   * become hits until the page is full. Asked for half as many again as hits are missing, since most candidates are
   * hits but some share only a prefix or a token with the words, then for twice as many each time a window holds more,
   * for a long word behind a common stem, whose candidates mostly are not. Answers how many candidates it read.
   */
  const scan = async (lowSeq: number, tokenTest: TokenTest): Promise<number> => {
    let seen = 0;
    let limit = Math.max(Math.ceil(CANDIDATE_SLACK * (wanted - hits.length)), MIN_BATCH);
    for (;;) {
      const rows = await candidatesIn(lowSeq, tokenTest, limit);
      seen += rows.length;
      for (const { seq, ...row } of rows) {
        if (hits.length >= wanted) break;
        if (!row.body_sealed) continue;
        const body = await openMessageBody(ctx.crypto, groupId, row.id, row.body_sealed);
        if (matchesText(body.content, query)) hits.push({ row, seq: Number(seq), body });
      }
      if (hits.length >= wanted || rows.length < limit) return seen;
      below = Number(rows.at(-1)!.seq);
      limit = Math.min(2 * limit, CANDIDATE_BATCH);
    }
  };
  /**
   * One round trip: the newest candidates below `below` from `lowSeq` on, joined with their messages' rows. Put in
   * order here: ordered by the database, the rows and their bodies would be sorted again after the join.
   */
  const candidatesIn = async (lowSeq: number, tokenTest: TokenTest, limit: number) => {
    let candidates = db
      .selectFrom('mirror_group_message_search as s')
      .select(['s.message_id', 's.seq'])
      .where('s.group_id', '=', groupId)
      .$if(below !== Infinity, (q) => q.where('s.seq', '<', below))
      .where((eb) => eb.and(filters))
      .orderBy('s.seq', 'desc')
      .limit(limit);
    if (lowSeq > 0) candidates = candidates.where('s.seq', '>=', lowSeq);
    if (terms.length > 0) candidates = candidates.where(tokenTest(db, tokenGroups(terms, keys, bucketOf(lowSeq), bucketOf(below - 1))));
    const rows = await selectChatMessages(db).innerJoin(candidates.as('c'), 'c.message_id', 'm.id').select('c.seq').execute();
    return rows.sort((a, b) => Number(b.seq) - Number(a.seq));
  };
  // Without words every message passing the filters is a hit: the newest below the cursor, read in order.
  if (terms.length === 0) {
    await scan(0, containsTokens);
    return hits;
  }

  const recentFloor = Math.max(0, below - RECENT_ROWS);
  const recentRows = below - recentFloor;
  // Several words: how often each met the newest rows, asked alongside, picks the one to look up in the index.
  const sampleFloor = Math.max(0, below - SAMPLE_ROWS);
  const [recent, counts] = await Promise.all([
    scan(recentFloor, containsTokens),
    terms.length > 1 && sqlFlavor(db) === 'mysql'
      ? groupCounts(db, groupId, sampleFloor, below, tokenGroups(terms, keys, bucketOf(sampleFloor), bucketOf(below - 1)))
      : ([] as number[]),
  ]);
  if (hits.length >= wanted || recentFloor === 0) return hits;
  const indexed = counts.length === 0 ? 0 : counts.indexOf(Math.min(...counts));
  below = recentFloor;
  if (recent === 0 && belowSeq !== null) {
    // Nothing below the cursor among these rows: it may lie past the newest message (deleted since, or a cursor made
    // up), and the windows must start from a place that exists, or they would widen over slices that do not.
    const newest = await newestSeq(db, groupId);
    if (newest === null) return hits;
    below = Math.min(recentFloor, newest + 1);
  }

  let high = bucketOf(below - 1);
  // How often the words met the recent rows says how far down the rest of the page lies: the first window spans
  // WINDOW_MARGIN times the rows that rate needs (a word they lacked counts as met once), so a rare word skips the
  // narrow windows a common one needs, whose full-text look-ups would each cost a round trip.
  let width = Math.max(1, Math.ceil((WINDOW_MARGIN * (wanted - hits.length) * recentRows) / ((hits.length + 1) * BUCKET_SPAN)));
  while (high >= 0 && hits.length < wanted) {
    const low = Math.max(0, high - width + 1);
    await scan(low * BUCKET_SPAN, matchesTokens(indexed));
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

/** A window's test of its rows for the query's tokens: one list of alternatives per query word, all required. */
type TokenTest = (db: ReadDb, groups: string[][]) => Expression<SqlBool>;

/** For each query word's term, the tokens that stand for it in the window: one per key version and slice. */
function tokenGroups(terms: string[], keys: SearchKey[], low: number, high: number): string[][] {
  return terms.map((term) => {
    const tokens = new Set<string>();
    for (const { key } of keys) for (let b = low; b <= high; b++) tokens.add(blindToken(key, b, term));
    return [...tokens];
  });
}

/**
 * Looked up in the full-text index. InnoDB reads every posting of every token it is given, so it is given only the
 * words of group `indexed` — the one the newest rows held least often — and the rows it finds are tested for the
 * others one by one: a rare word next to a common one then costs what the rare word costs.
 */
const matchesTokens =
  (indexed: number): TokenTest =>
  (db, groups) => {
    if (sqlFlavor(db) !== 'mysql') return sql<SqlBool>`s.tokens @@ to_tsquery('simple', ${tsQuery(groups)})`;
    const lookUp = sql<SqlBool>`match(s.tokens) against (${`+(${groups[indexed]!.join(' ')})`} in boolean mode)`;
    const others = groups.filter((_, i) => i !== indexed);
    return others.length === 0 ? lookUp : sql<SqlBool>`(${lookUp} and ${containsTokens(db, others)})`;
  };

/** The same test on each row read, without the full-text index (PostgreSQL evaluates a tsquery either way). */
const containsTokens: TokenTest = (db, groups) => {
  if (sqlFlavor(db) !== 'mysql') return sql<SqlBool>`s.tokens @@ to_tsquery('simple', ${tsQuery(groups)})`;
  return sql<SqlBool>`(${sql.join(groups.map((tokens) => sql`(${holdsAny(tokens)})`), sql` and `)})`;
};

/**
 * Whether a row's tokens hold one of these. Tokens are space-separated and all of one length, so a token found inside
 * the column is that token, and bytes compare faster than characters in a collation.
 */
const holdsAny = (tokens: string[]) => sql.join(tokens.map((token) => sql`locate(binary ${token}, binary s.tokens) > 0`), sql` or `);

/** How many of the rows from `low` up to `below` hold each group of alternatives. */
async function groupCounts(db: ReadDb, groupId: string, low: number, below: number, groups: string[][]): Promise<number[]> {
  const counts = await db
    .selectFrom('mirror_group_message_search as s')
    .select(groups.map((tokens, i) => sql<string>`sum(${holdsAny(tokens)})`.as(`g${i}`)))
    .where('s.group_id', '=', groupId)
    .where('s.seq', '>=', low)
    .where('s.seq', '<', below)
    .executeTakeFirst();
  return groups.map((_, i) => Number((counts as Record<string, unknown> | undefined)?.[`g${i}`] ?? 0));
}

const tsQuery = (groups: string[][]) => groups.map((tokens) => `(${tokens.join(' | ')})`).join(' & ');

/** The page's messages as the viewer sees them, in the order found, each with its snippet. */
async function withMessages(ctx: ReadContext, input: SearchInput, hits: Hit[]): Promise<SearchResult[]> {
  const opened = new Map(hits.map((hit) => [hit.row.id, hit.body]));
  const messages = await toChatMessages(readDb(ctx), ctx.crypto, hits.map((hit) => hit.row), input.viewerId, opened);
  return hits.map((hit, i) => ({ message: messages[i]!, snippet: snippet(hit.body.content, input.query) }));
}
