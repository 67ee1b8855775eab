/**
 * Index terms: the plain strings a message is found by, before the caller turns each into a keyed token. A query can
 * only reach a message through a term both sides compute, so the message side (`indexTerms`) and the query side
 * (`candidateTerms`) are written together here.
 */
import type { SearchQuery } from './query.js';
import { isCjkWord, tokenize } from './words.js';

/**
 * Every indexed prefix length costs one more token per word long enough to have it, and tokens must stay under three
 * times the plaintext, so only these. A query word is looked up by the longest of them it reaches, and the decrypted
 * text confirms the rest: every word sharing that prefix is a candidate, decrypted to be turned away unless it
 * matches. 3, 4 and 5 serve the short words people type as prefixes; 8 and 11 keep a long query word from drawing in
 * every word that shares its first five letters (a rare word behind a common stem cost thousands of decryptions).
 * Shorter prefixes are too common to be worth a token.
 */
const PREFIX_LENGTHS = [3, 4, 5, 8, 11] as const;

/** A shorter query word must be a whole word: the index holds no shorter prefix to find it by. */
export const MIN_PREFIX_LENGTH = PREFIX_LENGTHS[0];

/** Code points, not UTF-16 units, so an astral letter counts as one character and is never cut in half. */
const charsOf = (word: string) => [...word];

/**
 * The one term a word is found by when it is, or begins, what was typed: its prefix of the longest indexed length it
 * reaches (a word of exactly that length is its own prefix); a word too short for any prefix, or a CJK bigram, whole.
 * One term per query word: each is one more full-text look-up, and one more test for every row read in order.
 */
function termOf(word: string): string {
  const chars = charsOf(word);
  if (isCjkWord(word) || chars.length < MIN_PREFIX_LENGTH) return `w:${word}`;
  const prefix = Math.max(...PREFIX_LENGTHS.filter((length) => length <= chars.length));
  return `p${prefix}:${chars.slice(0, prefix).join('')}`;
}

/** The distinct index terms of a message's text: each word's prefixes of every indexed length it reaches, or the word. */
export function indexTerms(text: string): string[] {
  const terms = new Set<string>();
  for (const { word } of tokenize(text)) {
    const chars = charsOf(word);
    // CJK words are bigrams already; a prefix of one would be a single character, too common to narrow anything.
    if (isCjkWord(word) || chars.length < MIN_PREFIX_LENGTH) terms.add(`w:${word}`);
    else for (const length of PREFIX_LENGTHS) if (chars.length >= length) terms.add(`p${length}:${chars.slice(0, length).join('')}`);
  }
  return [...terms];
}

/** The term of each required query word; a candidate message holds them all. Phrase words are required words too. */
export function candidateTerms(query: SearchQuery): string[] {
  return [...new Set([...query.words, ...query.phrases.flat()].map(termOf))];
}
