import { describe, expect, it } from 'vitest';
import { candidateTerms, indexTerms } from '../../../../src/domain/search/index-terms.js';
import { matchesText, parseSearchQuery } from '../../../../src/domain/search/query.js';
import { finds, isCandidate } from './search-fixtures.js';

describe('the index terms of a message', () => {
  it('are the first 3, 4, 5, 8 and 11 characters of each word long enough, the word itself among them', () =>
    expect(indexTerms('Deploy it now, deployment, internationalised')).toEqual([
      'p3:dep',
      'p4:depl',
      'p5:deplo',
      'w:it',
      'p3:now',
      'p8:deployme',
      'p3:int',
      'p4:inte',
      'p5:inter',
      'p8:internat',
      'p11:internation',
    ]));

  it('are a word too short for a prefix, whole', () => expect(indexTerms('go to it')).toEqual(['w:go', 'w:to', 'w:it']));

  it('are distinct', () => expect(indexTerms('ok OK Ok')).toEqual(['w:ok']));

  it('are normalised words', () => expect(indexTerms('ＣＡＦÉ')).toEqual(['p3:caf', 'p4:cafe']));

  it('count prefixes in characters, not UTF-16 units', () =>
    expect(indexTerms('𝒜𝒷𝒸𝒹𝑒𝒻')).toEqual(['p3:abc', 'p4:abcd', 'p5:abcde']));

  it('are bigrams for CJK text, with no prefixes', () => expect(indexTerms('日本語')).toEqual(['w:日本', 'w:本語']));

  it('stay within five per word, however long: the storage budget', () => {
    const text = 'Internationalisation considerations notwithstanding';
    expect(indexTerms(text)).toHaveLength(5 * text.split(' ').length);
    expect(indexTerms('supercalifragilisticexpialidocious')).toHaveLength(5);
  });
});

describe('the candidate terms of a query', () => {
  const terms = (q: string) => candidateTerms(parseSearchQuery(q));

  it('look up a short word whole', () => expect(terms('go')).toEqual(['w:go']));

  it('look up a word of 3 to 7 characters by its prefix of 3, 4 or 5', () =>
    expect(terms('dep depl deplo deploym')).toEqual(['p3:dep', 'p4:depl', 'p5:deplo']));

  it('look up a longer word by its 8- or 11-character prefix, so a long word draws few others sharing its start', () =>
    expect(terms('deployment internationalised')).toEqual(['p8:deployme', 'p11:internation']));

  it('look up CJK bigrams whole', () => expect(terms('日本語')).toEqual(['w:日本', 'w:本語']));

  it('require the words of phrases, once each', () => expect(terms('app "the app"')).toEqual(['p3:app', 'p3:the']));

  it('are none for a query of filters only', () => expect(terms('from:alice has:link')).toEqual([]));

  it('include phrase words even when a caller built the query without them among the words', () =>
    expect(candidateTerms({ words: [], phrases: [['new', 'ui']] })).toEqual(['p3:new', 'w:ui']));

  it('find the word itself and the longer words it begins, whatever its length', () => {
    const word = 'internationalisation';
    for (let length = 3; length <= word.length; length++) {
      const typed = word.slice(0, length);
      expect(finds(`the ${typed} team`, typed), typed).toBe(true);
      expect(finds(`the ${typed}s team`, typed), `${typed}s`).toBe(true);
    }
  });
});

describe('finding messages', () => {
  const message = 'The deployment of the new Café UI finished';

  it('finds a message by a whole word, in any case, with or without accents', () => {
    expect(finds(message, 'deployment')).toBe(true);
    expect(finds(message, 'DEPLOYMENT')).toBe(true);
    expect(finds(message, 'cafe')).toBe(true);
    expect(finds('the cafe is open', 'Café')).toBe(true);
  });

  it('finds a message by a prefix of 3 or more characters', () => {
    expect(finds(message, 'deplo')).toBe(true);
    expect(finds(message, 'dep')).toBe(true);
    expect(finds(message, 'deployme')).toBe(true);
  });

  it('does not find a message by a 2-character prefix or by the middle of a word', () => {
    expect(finds(message, 'de')).toBe(false);
    expect(finds(message, 'ployment')).toBe(false);
  });

  it('does not find a message by a word longer than any of its words', () => expect(finds(message, 'deployments')).toBe(false));

  it('requires every word', () => {
    expect(finds(message, 'deployment finished')).toBe(true);
    expect(finds(message, 'deployment failed')).toBe(false);
  });

  it('finds compatibility forms by their plain letters and back', () => {
    expect(finds('ＡＢＣ release', 'abc')).toBe(true);
    expect(finds('the config ﬁle', 'file')).toBe(true);
    expect(finds('Straße 5', 'strasse')).toBe(true);
    expect(finds('Strasse 5', 'straße')).toBe(true);
  });

  it('finds Japanese text by a Japanese query, and not by one of its characters scattered', () => {
    expect(finds('今日は日本語の勉強をしました', '日本語')).toBe(true);
    expect(finds('今日は日本語の勉強をしました', '勉強')).toBe(true);
    expect(finds('日本の語学', '日本語')).toBe(false);
  });

  it('never misses through the index what the text confirms', () => {
    const cases: Array<[string, string]> = [
      ['Deployment done', 'deploy'],
      ['Deployment done', 'depl'],
      ['ship it', 'ship'],
      ['ships', 'ship'],
      ['𝒜𝒷𝒸𝒹𝑒𝒻 x', '𝒜𝒷𝒸𝒹'],
      ['한국어 공부', '한국어'],
      ['the new UI', '"new ui"'],
    ];
    for (const [text, q] of cases) {
      expect(matchesText(text, parseSearchQuery(q))).toBe(true);
      expect(isCandidate(text, q)).toBe(true);
    }
  });
});
