/**
 * The snippet shown with a search result: a window of the decrypted text around the first match, with the matching
 * words marked. Computed after decryption, since the database never holds the text.
 */
import { matchesWord, type SearchQuery } from './query.js';
import { graphemesOf, tokenize } from './words.js';

interface Range {
  start: number;
  end: number;
}

/** `highlights` are UTF-16 offsets into `text` (end exclusive), as JavaScript clients slice strings. */
export interface Snippet {
  text: string;
  highlights: Range[];
}

const ELLIPSIS = '…';

/** How much of the window goes before the first match: enough to read it in context, most of it for what follows. */
const LEAD_SHARE = 1 / 4;

/** The whole words of the text matching a query word; overlapping or touching ones (CJK bigrams) joined into one. */
function matchedRanges(text: string, query: SearchQuery): Range[] {
  const ranges: Range[] = [];
  for (const { word, start, end } of tokenize(text)) {
    if (!query.words.some((q) => matchesWord(word, q))) continue;
    const last = ranges.at(-1);
    if (last && start <= last.end) last.end = Math.max(last.end, end);
    else ranges.push({ start, end });
  }
  return ranges;
}

/**
 * The [from, to) of the text to show, cut only between graphemes (never inside an emoji or an accented letter), with
 * room for an ellipsis on each cut side so the snippet stays within `maxLength`.
 */
function windowAround(text: string, first: Range | undefined, maxLength: number): Range {
  if (text.length <= maxLength) return { start: 0, end: text.length };
  const bounds = [...graphemesOf(text)].map((g) => g.index).concat(text.length);
  const boundAtOrBefore = (at: number) => bounds.findLast((b) => b <= at) ?? 0;
  const boundAtOrAfter = (at: number) => bounds.find((b) => b >= at) ?? text.length;

  const from = boundAtOrBefore(first ? first.start - Math.floor(maxLength * LEAD_SHARE) : 0);
  const to = from + maxLength - (from > 0 ? ELLIPSIS.length : 0) - ELLIPSIS.length;
  if (to < text.length) return { start: from, end: Math.max(from, boundAtOrBefore(to)) };
  // The window reaches the end: spend what is left of it before the match instead.
  return { start: boundAtOrAfter(text.length - (maxLength - ELLIPSIS.length)), end: text.length };
}

/** A window of `text` of at most `maxLength` UTF-16 units around the first match, `…` where cut, matches highlighted. */
export function snippet(text: string, query: SearchQuery, maxLength = 160): Snippet {
  const matches = matchedRanges(text, query);
  const { start: from, end: to } = windowAround(text, matches[0], maxLength);
  const lead = from > 0 ? ELLIPSIS : '';
  const shift = lead.length - from;
  const highlights = matches
    .filter((m) => m.start < to && m.end > from)
    .map((m) => ({ start: Math.max(m.start, from) + shift, end: Math.min(m.end, to) + shift }));
  return { text: lead + text.slice(from, to) + (to < text.length ? ELLIPSIS : ''), highlights };
}
