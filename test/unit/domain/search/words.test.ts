import { describe, expect, it } from 'vitest';
import { cjkRuns, hasLink, isCjkWord, tokenize } from '../../../../src/domain/search/words.js';

const words = (text: string) => tokenize(text).map((w) => w.word);
/** What each word covers in the original text: what a highlight would show. */
const spans = (text: string) => tokenize(text).map((w) => text.slice(w.start, w.end));

describe('normalising words', () => {
  it('splits on anything but letters and digits, in lower case', () =>
    expect(words('Deploy the API (v2) -- now!')).toEqual(['deploy', 'the', 'api', 'v2', 'now']));

  it('folds compatibility forms (NFKC): full-width letters and ligatures are the plain letters', () => {
    expect(words('ＡＢＣ')).toEqual(['abc']);
    expect(words('ﬁle')).toEqual(['file']);
    expect(words('ｶﾞｲﾄﾞ')).toEqual(words('ガイド'));
  });

  it('folds case fully: ß is ss, a final sigma is a sigma', () => {
    expect(words('Straße STRASSE ẞ')).toEqual(['strasse', 'strasse', 'ss']);
    expect(words('ΟΔΟΣ οδος')).toEqual(['οδοσ', 'οδοσ']);
  });

  it('drops accents, written precomposed or combining', () => {
    expect(words('Café naïve Ångström mañana')).toEqual(['cafe', 'naive', 'angstrom', 'manana']);
    expect(words('Cafe\u0301')).toEqual(['cafe']);
    expect(words('İstanbul')).toEqual(['istanbul']);
  });

  it('keeps marks that make another letter rather than an accented one', () => {
    expect(words('が')).not.toEqual(words('か'));
    expect(words('किताब')).toEqual(['किताब']);
  });

  it('keeps Hangul syllables whole after dropping accents', () => expect(words('한')).toEqual(['한']));

  it('finds the same words and offsets in plain ASCII as in text that holds other characters too', () => {
    const ascii = "Don't e-mail C++ foo_bar at 10:30\tTODAY!!\n(x2) ~café~ a.b.c 007 ZZ-top";
    const plain = ascii.replace('é', 'e');
    // One accented letter sends the text down the full path; the rest must come out as the plain text's did.
    expect(tokenize(plain)).toEqual(tokenize(ascii));
    expect(words(plain)).toEqual(['don', 't', 'e', 'mail', 'c', 'foo', 'bar', 'at', '10', '30', 'today', 'x2', 'cafe', 'a', 'b', 'c', '007', 'zz', 'top']);
  });
});

describe('CJK text', () => {
  it('becomes overlapping character bigrams, since it has no spaces between words', () =>
    expect(words('日本語')).toEqual(['日本', '本語']));

  it('keeps a lone character as a word of one', () => expect(words('2024年 春')).toEqual(['2024', '年', '春']));

  it('splits from Latin letters around it', () => expect(words('Tokyo東京tower')).toEqual(['tokyo', '東京', 'tower']));

  it('treats kana, its long-vowel mark and Hangul as CJK', () => {
    expect(words('サーバー')).toEqual(['サー', 'ーバ', 'バー']);
    expect(words('한국어')).toEqual(['한국', '국어']);
  });

  it('gives each bigram its own offsets', () =>
    expect(tokenize('「日本語」')).toEqual([
      { word: '日本', start: 1, end: 3 },
      { word: '本語', start: 2, end: 4 },
    ]));

  it('gives the unsplit runs too, for checking a query run stands unbroken', () =>
    expect(cjkRuns('日本語を話す, and 東京')).toEqual(['日本語を話す', '東京']));

  it('tells CJK words from others', () => {
    expect(isCjkWord('日本')).toBe(true);
    expect(isCjkWord('ガイ')).toBe(true);
    expect(isCjkWord('cafe')).toBe(false);
  });
});

describe('offsets for highlighting', () => {
  it('are UTF-16 offsets into the original text', () =>
    expect(tokenize('👋 Hello, world')).toEqual([
      { word: 'hello', start: 3, end: 8 },
      { word: 'world', start: 10, end: 15 },
    ]));

  it('cover the original characters even when folding changes the length', () => {
    expect(spans('a ﬁle here')).toEqual(['a', 'ﬁle', 'here']);
    expect(spans('see ＡＢＣ now')).toEqual(['see', 'ＡＢＣ', 'now']);
    expect(spans('Straße!')).toEqual(['Straße']);
    expect(spans('Cafe\u0301 ok')).toEqual(['Cafe\u0301', 'ok']);
  });

  it('cover a character that folds into several CJK characters as a whole', () =>
    expect(spans('㍿')).toEqual(['㍿', '㍿', '㍿']));
});

describe('links', () => {
  it('finds http, https and www links', () => {
    expect(hasLink('see https://example.com/x')).toBe(true);
    expect(hasLink('HTTP://example.com')).toBe(true);
    expect(hasLink('at www.example.com today')).toBe(true);
  });

  it('does not take words or a bare scheme for links', () => {
    expect(hasLink('the www is big; http:// alone; awww.ok')).toBe(false);
    expect(hasLink('no link here')).toBe(false);
  });
});
