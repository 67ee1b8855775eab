import { describe, expect, it } from 'vitest';
import { DomainError } from '../../../../src/domain/errors.js';
import { MAX_QUERY_WORDS, matchesText, matchesWord, parseSearchQuery, relevance } from '../../../../src/domain/search/query.js';

/** The field messages a refused query reports, or the query when it is accepted. */
function refusal(q: string): string[] {
  try {
    parseSearchQuery(q);
  } catch (error) {
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('VALIDATION_ERROR');
    const fields = (error as DomainError).details!.fields as Array<{ field: string; message: string }>;
    expect(fields.every((f) => f.field === 'q')).toBe(true);
    return fields.map((f) => f.message);
  }
  throw new Error(`"${q}" was accepted`);
}

const matches = (text: string, q: string) => matchesText(text, parseSearchQuery(q));

describe('parsing words', () => {
  it('takes whitespace-separated words, normalised', () =>
    expect(parseSearchQuery('  Deploy   CAFÉ ')).toEqual({ words: ['deploy', 'cafe'], phrases: [] }));

  it('splits a token the way message text is split', () =>
    expect(parseSearchQuery('foo-bar')).toEqual({ words: ['foo', 'bar'], phrases: [] }));

  it('keeps each word once', () => expect(parseSearchQuery('ok OK ok').words).toEqual(['ok']));

  it('turns CJK text into bigrams and keeps runs of three or more characters whole too', () =>
    expect(parseSearchQuery('日本語 東京')).toEqual({ words: ['日本', '本語', '東京'], phrases: [], cjkRuns: ['日本語'] }));

  it(`refuses more than ${MAX_QUERY_WORDS} words`, () => {
    const many = Array.from({ length: MAX_QUERY_WORDS + 1 }, (_, i) => `w${i}`);
    expect(parseSearchQuery(many.slice(1).join(' ')).words).toHaveLength(MAX_QUERY_WORDS);
    expect(refusal(many.join(' '))).toEqual([`must hold at most ${MAX_QUERY_WORDS} words`]);
  });
});

describe('parsing phrases', () => {
  it('takes a quoted phrase as its words in order, which are required words too', () =>
    expect(parseSearchQuery('"New UI" ready')).toEqual({ words: ['new', 'ui', 'ready'], phrases: [['new', 'ui']] }));

  it('runs an unclosed quote to the end', () =>
    expect(parseSearchQuery('ready "the new ui').phrases).toEqual([['the', 'new', 'ui']]));

  it('takes a quoted single word as a word', () => expect(parseSearchQuery('"ready"')).toEqual({ words: ['ready'], phrases: [] }));

  it('reads filter syntax inside quotes as text', () =>
    expect(parseSearchQuery('"from:alice now"')).toEqual({ words: ['from', 'alice', 'now'], phrases: [['from', 'alice', 'now']] }));
});

describe('parsing filters', () => {
  it('reads from:username, as typed, without a leading @', () => {
    expect(parseSearchQuery('from:Alice')).toEqual({ words: [], phrases: [], from: 'Alice' });
    expect(parseSearchQuery('from:@bob').from).toBe('bob');
  });

  it('reads before: and after: dates', () =>
    expect(parseSearchQuery('after:2026-01-01 before:2026-01-31 report')).toEqual({
      words: ['report'],
      phrases: [],
      after: '2026-01-01',
      before: '2026-01-31',
    }));

  it('accepts 29 February in a leap year only', () => {
    expect(parseSearchQuery('before:2028-02-29').before).toBe('2028-02-29');
    expect(refusal('before:2026-02-29')).toEqual(['before: must be a real date written YYYY-MM-DD']);
  });

  it('refuses dates that are not real calendar dates', () => {
    for (const date of ['2026-02-30', '2026-13-01', '2026-00-10', '2026-1-5', '26-01-05', 'yesterday', '']) {
      expect(refusal(`after:${date}`)).toEqual(['after: must be a real date written YYYY-MM-DD']);
    }
  });

  it('reads in:thread and in:<thread id>', () => {
    expect(parseSearchQuery('in:thread').inThread).toBe(true);
    expect(parseSearchQuery('in:0F8FAD5B-D9CB-469F-A165-70867728950E').inThread).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
  });

  it('refuses other in: values', () => {
    expect(refusal('in:general')).toEqual(['in: must be "thread" or a thread id']);
    expect(refusal('in:')).toEqual(['in: must be "thread" or a thread id']);
  });

  it('reads has:link and refuses other has: values', () => {
    expect(parseSearchQuery('has:link').hasLink).toBe(true);
    expect(refusal('has:image')).toEqual(['has: must be "link"']);
  });

  it('refuses from: without a username', () => {
    expect(refusal('from:')).toEqual(['from: needs a username']);
    expect(refusal('from:@')).toEqual(['from: needs a username']);
  });

  it('reads filter keys in any case', () =>
    expect(parseSearchQuery('FROM:alice Has:Link IN:Thread Before:2026-03-01')).toEqual({
      words: [],
      phrases: [],
      from: 'alice',
      hasLink: true,
      inThread: true,
      before: '2026-03-01',
    }));

  it('takes an unknown key: as text', () => expect(parseSearchQuery('re:launch').words).toEqual(['re', 'launch']));
});

describe('an empty query', () => {
  it('is refused when it holds no word, phrase or filter', () => {
    for (const q of ['', '   ', '""', '-- !!', '👍']) expect(refusal(q)).toEqual(['must hold a word, a phrase or a filter']);
    expect(() => parseSearchQuery('')).toThrow('Search query is empty');
  });

  it('is accepted with a filter alone', () => expect(parseSearchQuery('has:link')).toEqual({ words: [], phrases: [], hasLink: true }));
});

describe('confirming a candidate on its text', () => {
  it('requires every word, whole or as the beginning of a word when 3 characters or more', () => {
    expect(matches('Deployment finished', 'deplo fin')).toBe(true);
    expect(matches('Deployment finished', 'deplo failed')).toBe(false);
    expect(matches('Deployment finished', 'de')).toBe(false);
    expect(matches('Deployment finished', 'ployment')).toBe(false);
  });

  it('matches accents either way', () => {
    expect(matches('Café opens', 'cafe')).toBe(true);
    expect(matches('Cafe opens', 'café')).toBe(true);
  });

  it('requires a phrase as consecutive words in order', () => {
    expect(matches('the new UI is live', '"new ui"')).toBe(true);
    expect(matches('the new, shiny UI is live', '"new ui"')).toBe(false);
    expect(matches('the UI is new', '"new ui"')).toBe(false);
  });

  it('lets separators between the words of a phrase differ', () => expect(matches('new-UI', '"new ui"')).toBe(true));

  it('lets the last word of a phrase be a prefix, and only the last', () => {
    expect(matches('the new user interface', '"new user inter"')).toBe(true);
    expect(matches('the new user interface', '"new use interface"')).toBe(false);
  });

  it('requires a CJK run of the query unbroken in the text, not just its bigrams', () => {
    expect(matches('日本語を勉強する', '日本語')).toBe(true);
    expect(matches('日本、本語', '日本語')).toBe(false);
  });

  it('matches a one-character CJK word only as a character on its own', () => {
    expect(matches('春 が 来た', '春')).toBe(true);
    expect(matches('春が来た', '春')).toBe(false);
  });

  it('checks only text: a query of filters alone matches any text', () => expect(matches('anything', 'from:alice')).toBe(true));
});

describe('matching one word', () => {
  it('takes a word of the text for a query word it equals or, from 3 characters, begins with', () => {
    expect(matchesWord('deployment', 'deployment')).toBe(true);
    expect(matchesWord('deployment', 'dep')).toBe(true);
    expect(matchesWord('deployment', 'de')).toBe(false);
    expect(matchesWord('de', 'de')).toBe(true);
  });

  it('takes CJK bigrams whole only', () => expect(matchesWord('日本', '日')).toBe(false));
});

describe('relevance', () => {
  it('ranks more occurrences of the query words higher', () => {
    const q = parseSearchQuery('deploy');
    expect(relevance('deploy, deployed, deploying', q)).toBeGreaterThan(relevance('we deploy today', q));
    expect(relevance('we deploy today', q)).toBeGreaterThan(relevance('nothing here', q));
  });

  it('ranks a text holding a phrase above one holding its words apart', () => {
    const q = parseSearchQuery('"release notes"');
    expect(relevance('the release notes are out', q)).toBeGreaterThan(relevance('notes on the release and more notes', q));
  });

  it('gives the same score to the same text and query every time', () => {
    const q = parseSearchQuery('deploy "new ui"');
    expect(relevance('deploy the new UI', q)).toBe(relevance('deploy the new UI', q));
  });
});
