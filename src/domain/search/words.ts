/**
 * The words of a text as search sees them. Message text is encrypted at rest, so search cannot ask the database to
 * normalise: the same rules here turn a message into index terms, a query into look-ups, and confirm candidates on the
 * decrypted text, so what is typed and what is stored always meet.
 */

/** A normalised word and where it stands in the original text (UTF-16 offsets, end exclusive), for highlighting. */
export interface Word {
  word: string;
  start: number;
  end: number;
}

/** A run of word characters between separators; CJK runs are kept apart since they become bigrams, not words. */
interface Run {
  chars: Array<{ char: string; start: number; end: number }>;
  cjk: boolean;
}

const segmenter = new Intl.Segmenter('und', { granularity: 'grapheme' });

/**
 * Accents of Latin, Greek and Cyrillic letters (what NFD splits off é, ñ, å) and the optional vowel points of Hebrew and
 * Arabic. Other scripts' marks stay: a Devanagari vowel sign or a kana voicing mark makes another letter, not an
 * accented one (が is not か).
 */
const diacritics = /[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7\u064b-\u065f\u0670]/g;

/** Scripts written without spaces between words; `Script_Extensions` so that marks like ー (Common) count as kana. */
const cjkScript = /^[\p{scx=Han}\p{scx=Hiragana}\p{scx=Katakana}\p{scx=Hangul}]/u;
const letterOrDigit = /[\p{L}\p{N}]/u;
const mark = /\p{M}/u;
/** A stretch of ASCII, then possibly its last character with the other characters after it (an é, a keycap 1️⃣). */
const asciiThenOther = /([\x00-\x7f]*?)([\x00-\x7f]?[^\x00-\x7f]+)|[\x00-\x7f]+/g;

/**
 * One grapheme folded: NFKC (full-width ＡＢＣ, ligature ﬁ), lower case plus the full case folds lower case misses
 * (ß → ss, final ς → σ), then accents dropped. NFC at the end puts back together what NFD took apart and must stay
 * whole, such as Hangul syllables.
 */
function fold(grapheme: string): string {
  if (grapheme.length === 1 && grapheme < '\x80') return grapheme.toLowerCase(); // ASCII needs no normalising
  const lower = grapheme.normalize('NFKC').toLowerCase().replace(/ß/g, 'ss').replace(/ς/g, 'σ');
  return lower.normalize('NFD').replace(diacritics, '').normalize('NFC');
}

/**
 * The graphemes of a text with their offsets. Segmenting costs about a microsecond a character, and in ASCII every
 * character is a grapheme of its own, so only the stretches holding other characters are segmented, each together with
 * the ASCII character before it, which a combining mark may extend.
 */
export function* graphemesOf(text: string): Generator<{ segment: string; index: number }> {
  for (const match of text.matchAll(asciiThenOther)) {
    const [whole, ascii = whole, other] = match;
    for (let i = 0; i < ascii.length; i++) yield { segment: ascii[i]!, index: match.index + i };
    if (other === undefined) continue;
    const offset = match.index + ascii.length;
    for (const { segment, index } of segmenter.segment(other)) yield { segment, index: offset + index };
  }
}

/**
 * The runs of a text. Folding goes grapheme by grapheme, so every folded character knows the original span it came
 * from even when folding changes the length (ﬁ → fi, ㍿ → 株式会社): highlights land on the original text.
 */
function runsOf(text: string): Run[] {
  const runs: Run[] = [];
  let run: Run | undefined;
  for (const { segment, index } of graphemesOf(text)) {
    const span = { start: index, end: index + segment.length };
    for (const char of fold(segment)) {
      // A mark belongs to the letter before it; on its own it is neither a word nor a break.
      if (mark.test(char)) {
        run?.chars.push({ char, ...span });
        continue;
      }
      if (!letterOrDigit.test(char)) {
        run = undefined;
        continue;
      }
      const cjk = cjkScript.test(char);
      if (run?.cjk !== cjk) {
        run = { chars: [], cjk };
        runs.push(run);
      }
      run.chars.push({ char, ...span });
    }
  }
  return runs;
}

/**
 * CJK text has no spaces to find words by, so a run is indexed as its overlapping character pairs: any word of two or
 * more characters inside it is then found by its own pairs. A lone character stays a word of one.
 */
function bigrams({ chars }: Run): Word[] {
  if (chars.length === 1) return chars.map(({ char, start, end }) => ({ word: char, start, end }));
  return chars.slice(1).map((second, i) => {
    const first = chars[i]!;
    return { word: first.char + second.char, start: first.start, end: second.end };
  });
}

const ascii = /^[\x00-\x7f]*$/;
const asciiWord = /[a-z0-9]+/gi;

/** The normalised words of a text, in order, with their offsets in the original. */
export function tokenize(text: string): Word[] {
  // Most chat text is ASCII, where folding is lower-casing and every word is a run of letters and digits: the same
  // words as below, some ten times faster, which every message indexed and every candidate confirmed pays.
  if (ascii.test(text)) return Array.from(text.matchAll(asciiWord), (m) => ({ word: m[0].toLowerCase(), start: m.index, end: m.index + m[0].length }));
  return runsOf(text).flatMap((run) =>
    run.cjk ? bigrams(run) : [{ word: run.chars.map((c) => c.char).join(''), start: run.chars[0]!.start, end: run.chars.at(-1)!.end }],
  );
}

/** The normalised CJK runs of a text, unsplit: a query's run must stand unbroken in a message, not just its pairs. */
export function cjkRuns(text: string): string[] {
  return runsOf(text)
    .filter((run) => run.cjk)
    .map((run) => run.chars.map((c) => c.char).join(''));
}

/** Whether a word (as `tokenize` gives it) is a CJK bigram or character; words never mix CJK and other letters. */
export function isCjkWord(word: string): boolean {
  return cjkScript.test(word);
}

/** Whether a text holds a web link: `http://…`, `https://…` or a bare `www.…`. */
export function hasLink(text: string): boolean {
  return /\b(?:https?:\/\/|www\.)[^\s/]/i.test(text);
}
