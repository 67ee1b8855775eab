/**
 * Search (issue 5): GET …/chat/search over a seeded corpus, case (a) many groups and case (b) one large group, for
 * five query classes; side by side with plain InnoDB FULLTEXT over the same texts in a throw-away table of the read
 * database (`group_id` filter, `ORDER BY seq DESC LIMIT 20`), which is what the blind index replaces. Also the
 * storage of the tokens against the plaintext. Full profile only: the comparison is with MariaDB's FULLTEXT.
 */
import mysql from 'mysql2/promise';
import { corpus } from '../corpus.js';
import { latencyFigures, type Figure } from '../report.js';
import type { Scenario } from '../scenario.js';
import { seedGroups, serveSeeded, type SeededGroups } from '../seed.js';
import { benchBackends } from '../servers.js';
import { MARIADB_ADMIN_URL } from '../../test/support/backends.js';

const SIZES = {
  short: { cases: [{ name: 'a', groups: 20, perGroup: 1000 }, { name: 'b', groups: 1, perGroup: 20_000 }], requests: 50 },
  full: { cases: [{ name: 'a', groups: 100, perGroup: 10_000 }, { name: 'b', groups: 1, perGroup: 1_000_000 }], requests: 200 },
};
const PAGE = 20;
const TARGET_P95_MS: Record<string, number> = { a: 10, b: 50 };
const MAX_STORAGE_RATIO = 3;
const INSERT_ROWS = 1000;

interface QueryClass {
  name: string;
  /** As a member types it. */
  q: string;
  /** The same in InnoDB boolean mode. */
  boolean: string;
}

function queryClasses(vocabulary: string[]): QueryClass[] {
  const word = (rank: number) => vocabulary[rank]!;
  const prefix = vocabulary.slice(100).find((w) => w.length >= 7)!.slice(0, 4);
  return [
    { name: 'common word', q: word(0), boolean: `+${word(0)}` },
    { name: 'mid-frequency word', q: word(300), boolean: `+${word(300)}` },
    { name: 'rare word', q: word(15_000), boolean: `+${word(15_000)}` },
    { name: 'two words', q: `${word(1)} ${word(40)}`, boolean: `+${word(1)} +${word(40)}` },
    { name: '4-letter prefix', q: prefix, boolean: `+${prefix}*` },
  ];
}

/** The throw-away plaintext table: the same texts, FULLTEXT-indexed, as a search without a blind index would keep. */
async function plaintextTable(db: mysql.Connection, seed: SeededGroups, text: (n: number) => string): Promise<void> {
  await db.query('create table bench_plain (id varchar(36) primary key, group_id varchar(36) not null, seq int not null, content text not null, key (group_id, seq)) engine=InnoDB default charset=utf8mb4');
  let n = 0;
  for (const { groupId, messageIds } of seed.groups) {
    for (let i = 0; i < messageIds.length; i += INSERT_ROWS) {
      const rows = messageIds.slice(i, i + INSERT_ROWS).map((id, j) => [id, groupId, i + j, text(n + i + j)]);
      await db.query('insert into bench_plain (id, group_id, seq, content) values ?', [rows]);
    }
    n += messageIds.length;
  }
  // Indexed after the rows are in, as one would build it for a comparison: much faster than row by row.
  await db.query('alter table bench_plain add fulltext index bench_plain_content (content)');
}

/**
 * The read database's buffer pool while the scenario runs, as a database server holding a million messages would be
 * given (MariaDB's own advice is most of a dedicated server's memory): the 128 MiB it ships with holds a tenth of the
 * read models and full-text indexes, and every query would time the disk. Set back afterwards.
 */
const BUFFER_POOL_BYTES = 2 * 2 ** 30;

async function withBufferPool<T>(url: string, run: () => Promise<T>): Promise<T> {
  const db = await mysql.createConnection(url);
  const [[{ bytes }]] = (await db.query('select @@innodb_buffer_pool_size as bytes')) as any;
  try {
    if (Number(bytes) < BUFFER_POOL_BYTES) await db.query('set global innodb_buffer_pool_size = ?', [BUFFER_POOL_BYTES]);
    return await run();
  } finally {
    await db.query('set global innodb_buffer_pool_size = ?', [Number(bytes)]);
    await db.end();
  }
}

/**
 * Unmeasured requests of every class before any series: a server that has just started runs its search code
 * unoptimized for its first thousand or so requests (V8 compiles hot code as it runs: measured here, the server's CPU
 * a request halves after them), and the targets are for a server that has been serving.
 */
const WARM_UP_PER_CLASS = 300;

/** Bounds each series in time as well as in count: plain FULLTEXT takes seconds a query for the most common word. */
const SERIES_LIMIT_MS = 30_000;
const MIN_SAMPLES = 5;
/** The plain FULLTEXT baseline warms up for as long as this at the most, for the same reason. */
const WARM_UP_LIMIT_MS = 10_000;

/**
 * Times `count` requests after `warmUp` unmeasured ones: the first search of a group in a process unwraps the group's
 * keys, and the first of a class brings its pages into memory, once per process and group, not per request.
 */
async function time(count: number, warmUp: number, request: (i: number) => Promise<void>): Promise<number[]> {
  const warmUntil = performance.now() + WARM_UP_LIMIT_MS;
  for (let i = 0; i < warmUp && performance.now() < warmUntil; i++) await request(i);
  const samples: number[] = [];
  const stopAt = performance.now() + SERIES_LIMIT_MS;
  for (let i = 0; i < count && (i < MIN_SAMPLES || performance.now() < stopAt); i++) {
    const started = performance.now();
    await request(i);
    samples.push(performance.now() - started);
  }
  return samples;
}

export const search: Scenario = async (ctx) => {
  if (ctx.profile !== 'full') throw new Error('the search benchmark compares with MariaDB FULLTEXT: run it on the full profile');
  const size = ctx.short ? SIZES.short : SIZES.full;
  const words = corpus();
  const classes = queryClasses(words.vocabulary);
  const figures: Figure[] = [];
  const notes: string[] = [];
  await withBufferPool(MARIADB_ADMIN_URL, async () => {
    for (const c of size.cases) {
      const backends = await benchBackends(ctx.profile);
      try {
        const seed = await seedGroups(backends.env, c.groups, c.perGroup, words.message);
        const { server, api, seconds } = await serveSeeded(backends, { ...seed, groupId: seed.groups.at(-1)!.groupId, messageIds: seed.groups.at(-1)!.messageIds });
        const plain = await mysql.createConnection(backends.env.READ_DB_URL!);
        try {
          await plaintextTable(plain, seed, words.message);
          const groupOf = (i: number) => seed.groups[i % seed.groups.length]!.groupId;
          const search = async (query: QueryClass, i: number) => {
            const answer = await api.get(`/mirror/api/groups/${groupOf(i)}/chat/search?${new URLSearchParams({ q: query.q, limit: String(PAGE) })}`);
            if (answer.status !== 200) throw new Error(`search answered ${answer.status}: ${JSON.stringify(answer.body).slice(0, 200)}`);
          };
          for (const query of classes) for (let i = 0; i < WARM_UP_PER_CLASS; i++) await search(query, i);
          for (const query of classes) {
            const chat = await time(size.requests, c.groups, (i) => search(query, i));
            const bare = await time(size.requests, c.groups, async (i) => {
              await plain.query('select id from bench_plain where group_id = ? and match(content) against (? in boolean mode) order by seq desc limit ?', [groupOf(i), query.boolean, PAGE]);
            });
            figures.push(...latencyFigures(`(${c.name}) ${query.name}`, chat, bare).filter((f) => !f.name.endsWith('p99')));
          }
          const [[tokens]] = (await plain.query('select sum(length(tokens)) as bytes, count(*) as n from mirror_group_message_search')) as any;
          const [[texts]] = (await plain.query('select sum(length(content)) as bytes from bench_plain')) as any;
          const ratio = Number(tokens.bytes) / Number(texts.bytes);
          const [[pool]] = (await plain.query('select @@innodb_buffer_pool_size as bytes')) as any;
          figures.push({ name: `(${c.name}) token storage ÷ plaintext`, unit: '×', value: ratio, higherIsBetter: false });
          const worst = Math.max(...figures.filter((f) => f.name.startsWith(`(${c.name})`) && f.name.endsWith('p95')).map((f) => f.value));
          notes.push(
            `case (${c.name}): ${c.groups} group(s) × ${c.perGroup} messages, projected in ${seconds.toFixed(0)} s; target p95 ≤ ${TARGET_P95_MS[c.name]} ms for every class — ${worst <= TARGET_P95_MS[c.name]! ? 'met' : 'missed'} at this size (worst ${worst.toFixed(1)} ms); token storage ${ratio.toFixed(2)}× the plaintext (target ≤ ${MAX_STORAGE_RATIO}×); MariaDB's buffer pool ${Math.round(Number(pool.bytes) / 2 ** 20)} MiB`,
          );
        } finally {
          await plain.end();
          await server.stop();
        }
      } finally {
        await backends.drop();
      }
    }
  });
  notes.push(
    `query classes: ${classes.map((q) => `${q.name} "${q.q}"`).join(', ')}; the chat figures are whole HTTP requests (decryption, confirmation, snippets, JSON), the baseline the bare SQL query; first ${WARM_UP_PER_CLASS} unmeasured requests of every class, then each series after one unmeasured request per group (the baseline's for 10 s at the most)`,
    'search matches a term of three letters or more also as a word prefix; the plaintext word queries match whole words only, so the chat side does at least as much work',
    'storage: bytes of the token column against bytes of the message texts (FULLTEXT index structures of either not included)',
  );
  return { scenario: 'search', parameters: { ...size, page: PAGE, profile: ctx.profile }, figures, notes };
};
