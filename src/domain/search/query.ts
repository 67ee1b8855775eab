/**
 * Search queries: what the user typed in `q`, parsed into required words, phrases and filters, and the confirmation of
 * a candidate on its decrypted text. The blind index only narrows (a prefix token stands for many words, bigrams for
 * many runs), so `matchesText` is what makes a result a result.
 */
import { DomainError } from '../errors.js';
import { MIN_PREFIX_LENGTH } from './index-terms.js';
import { cjkRuns, isCjkWord, tokenize } from './words.js';

export interface SearchQuery {
  /** Normalised required words, those of phrases included, each once. */
  words: string[];
  /** Quoted phrases of two or more words, normalised, in order. */
  phrases: string[][];
  /** CJK runs of three or more characters: their bigrams are among `words`, and the run must stand unbroken in the text. */
  cjkRuns?: string[];
  /** A username as typed, without a leading @. */
  from?: string;
  before?: string;
  after?: string;
  /** `true` for messages in any thread, or the root message id of one thread. */
  inThread?: true | string;
  hasLink?: true;
}

/** Every word is one more group of tokens the database must intersect; 32 is more than anyone types. */
export const MAX_QUERY_WORDS = 32;

/** A quoted phrase (an unclosed quote runs to the end) or a run of anything but white space and quotes. */
const queryToken = /"([^"]*)"?|[^\s"]+/g;
const filter = /^(from|before|after|in|has):(.*)$/i;
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const invalid = (message: string, summary = 'Invalid search query') => DomainError.validation([{ field: 'q', message }], summary);

/** Whether `value` is YYYY-MM-DD naming a day that exists (no 2026-02-30). */
function isCalendarDate(value: string): boolean {
  const parts = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!parts) return false;
  const date = new Date(Date.UTC(Number(parts[1]), Number(parts[2]) - 1, Number(parts[3])));
  return date.toISOString().slice(0, 10) === value;
}

/** Sets one filter on the query; a later filter of the same key replaces an earlier one. */
function applyFilter(query: SearchQuery, key: string, value: string): void {
  const name = key.toLowerCase();
  switch (name) {
    case 'from': {
      const username = value.replace(/^@/, '');
      if (!username) throw invalid('from: needs a username');
      query.from = username;
      return;
    }
    case 'before':
    case 'after':
      if (!isCalendarDate(value)) throw invalid(`${name}: must be a real date written YYYY-MM-DD`);
      query[name] = value;
      return;
    case 'in':
      if (value.toLowerCase() === 'thread') query.inThread = true;
      else if (uuid.test(value)) query.inThread = value.toLowerCase();
      else throw invalid('in: must be "thread" or a thread id');
      return;
    case 'has':
      if (value.toLowerCase() !== 'link') throw invalid('has: must be "link"');
      query.hasLink = true;
  }
}

/** Parses `q`. Text is normalised like message text, so `foo-bar` is two words and CJK text becomes bigrams. */
export function parseSearchQuery(q: string): SearchQuery {
  const query: SearchQuery = { words: [], phrases: [] };
  const words = new Set<string>();
  const runs = new Set<string>();
  const addText = (text: string): string[] => {
    const found = tokenize(text).map((w) => w.word);
    for (const word of found) words.add(word);
    // A run of one or two characters is a single bigram (or character), already confirmed as a word.
    for (const run of cjkRuns(text)) if ([...run].length > 2) runs.add(run);
    return found;
  };
  for (const [token, quoted] of q.matchAll(queryToken)) {
    if (quoted !== undefined) {
      const phrase = addText(quoted);
      // A phrase of one word is that word: nothing about order to check.
      if (phrase.length > 1) query.phrases.push(phrase);
      continue;
    }
    const filterParts = filter.exec(token);
    if (filterParts) applyFilter(query, filterParts[1]!, filterParts[2]!);
    else addText(token);
  }
  query.words = [...words];
  if (runs.size > 0) query.cjkRuns = [...runs];
  const filtered = [query.from, query.before, query.after, query.inThread, query.hasLink].some((value) => value !== undefined);
  if (words.size === 0 && !filtered) throw invalid('must hold a word, a phrase or a filter', 'Search query is empty');
  if (words.size > MAX_QUERY_WORDS) throw invalid(`must hold at most ${MAX_QUERY_WORDS} words`, 'Search query has too many words');
  return query;
}

/**
 * Whether a word of the text stands for a query word: the same word, or one it begins when the query word is long
 * enough to be looked up by prefix. CJK words are bigrams, matched whole.
 */
export function matchesWord(textWord: string, queryWord: string): boolean {
  if (textWord === queryWord) return true;
  return !isCjkWord(queryWord) && [...queryWord].length >= MIN_PREFIX_LENGTH && textWord.startsWith(queryWord);
}

/** Whether the phrase stands as consecutive words of the text; its last word may be a prefix, as the user may still be typing. */
function holdsPhrase(textWords: string[], phrase: string[]): boolean {
  const last = phrase.length - 1;
  return textWords.some((_, at) => phrase.every((word, i) => (i === last ? matchesWord(textWords[at + i] ?? '', word) : textWords[at + i] === word)));
}

/**
 * The confirmation of a candidate on its decrypted text: every query word is a word of the text or (3+ characters,
 * not CJK) begins one, every phrase stands as consecutive words, and every CJK run of the query stands unbroken in a
 * CJK run of the text (its bigrams alone could come from different places).
 */
export function matchesText(text: string, query: SearchQuery): boolean {
  const textWords = tokenize(text).map((w) => w.word);
  if (!query.words.every((q) => textWords.some((w) => matchesWord(w, q)))) return false;
  if (!query.phrases.every((phrase) => holdsPhrase(textWords, phrase))) return false;
  const queryRuns = query.cjkRuns ?? [];
  if (queryRuns.length === 0) return true;
  const textRuns = cjkRuns(text);
  return queryRuns.every((run) => textRuns.some((textRun) => textRun.includes(run)));
}

/** A phrase found counts as much as this many more occurrences: the words in the order asked is the better match. */
const PHRASE_BONUS = 3;

/** A score for `sort=relevance`: one point per word of the text matching a query word, plus a bonus per phrase found. */
export function relevance(text: string, query: SearchQuery): number {
  const textWords = tokenize(text).map((w) => w.word);
  const occurrences = textWords.filter((w) => query.words.some((q) => matchesWord(w, q))).length;
  const phrases = query.phrases.filter((phrase) => holdsPhrase(textWords, phrase)).length;
  return occurrences + PHRASE_BONUS * phrases;
}
