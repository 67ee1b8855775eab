import { describe, expect, it } from 'vitest';
import { parseSearchQuery } from '../../../../src/domain/search/query.js';
import { snippet } from '../../../../src/domain/search/snippet.js';

/** The snippet with each highlight shown as the text it covers. */
function shown(text: string, q: string, maxLength?: number) {
  const s = snippet(text, parseSearchQuery(q), maxLength);
  return { text: s.text, marked: s.highlights.map((h) => s.text.slice(h.start, h.end)) };
}

describe('a short text', () => {
  it('is shown whole, with every matching word highlighted', () =>
    expect(snippet('Deploy now; deployment done', parseSearchQuery('deploy'))).toEqual({
      text: 'Deploy now; deployment done',
      highlights: [
        { start: 0, end: 6 },
        { start: 12, end: 22 },
      ],
    }));

  it('highlights the whole word when the query gave a prefix', () =>
    expect(shown('The deployment finished', 'deplo').marked).toEqual(['deployment']));

  it('highlights the original characters, even where folding changed the length', () => {
    expect(shown('a ﬁle and a Ｆｉｌｅ', 'file').marked).toEqual(['ﬁle', 'Ｆｉｌｅ']);
    expect(shown('Café and cafe', 'CAFE').marked).toEqual(['Café', 'cafe']);
  });

  it('highlights a CJK word as one range over its bigrams', () =>
    expect(shown('今日は日本語を話す', '日本語').marked).toEqual(['日本語']));

  it('highlights the words of a phrase', () => expect(shown('the new UI is live', '"new ui"').marked).toEqual(['new', 'UI']));
});

describe('a long text', () => {
  const before = 'a'.repeat(200);
  const after = 'b'.repeat(200);
  const text = `${before} deployment ${after}`;

  it('is cut to a window around the first match, with an ellipsis on each cut side', () => {
    const s = shown(text, 'deployment', 60);
    expect(s.text).toHaveLength(60);
    expect(s.text.startsWith('…a')).toBe(true);
    expect(s.text.endsWith('b…')).toBe(true);
    expect(s.marked).toEqual(['deployment']);
  });

  it('starts at the beginning, without a leading ellipsis, when the match is near it', () => {
    const s = shown(`deployment ${after}`, 'deployment', 60);
    expect(s.text).toBe(`deployment ${'b'.repeat(48)}…`);
    expect(s.marked).toEqual(['deployment']);
  });

  it('ends at the end, without a trailing ellipsis, and shows more before, when the match is near it', () => {
    const s = shown(`${before} deployment`, 'deployment', 60);
    expect(s.text).toBe(`…${'a'.repeat(48)} deployment`);
    expect(s.marked).toEqual(['deployment']);
  });

  it('highlights only the matches inside the window', () =>
    expect(shown(`deploy ${before} deploy`, 'deploy', 60).marked).toEqual(['deploy']));

  it('never cuts an emoji or an accented letter in half', () => {
    for (const grapheme of ['👍🏽', '👨‍👩‍👧', 'e\u0301']) {
      const long = `${grapheme.repeat(100)} deployment ${grapheme.repeat(100)}`;
      for (const maxLength of [40, 41, 42, 43]) {
        const s = shown(long, 'deployment', maxLength);
        expect(s.text.length).toBeLessThanOrEqual(maxLength);
        const body = s.text.replace(/^…|…$/g, '');
        expect(body.replace(' deployment ', '').split(grapheme).join('')).toBe('');
        expect(s.marked).toEqual(['deployment']);
      }
    }
  });

  it('gives its beginning and no highlights when nothing matches', () =>
    expect(shown(text, 'missing', 20)).toEqual({ text: `${'a'.repeat(19)}…`, marked: [] }));
});
