/**
 * A synthetic chat corpus for the search benchmark: pseudo-words drawn with Zipf frequencies, as words are in any
 * language, so that "the most common word", "a mid-frequency word" and "a rare word" mean what they do in real chat.
 * Deterministic: the same seed gives the same vocabulary and messages.
 */
const SYLLABLES = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'ber', 'dan', 'fel', 'gor', 'hin', 'jul', 'kes', 'lim', 'mor', 'nal', 'pen', 'quo', 'ras', 'sel', 'tor', 'ulm', 'ven', 'wex', 'yar', 'zen'];
const VOCABULARY = 20_000;
const ZIPF_EXPONENT = 1.07;

export interface Corpus {
  /** Most frequent first. */
  vocabulary: string[];
  /** The n-th message's text: 8 to 16 words. */
  message(n: number): string;
}

/** mulberry32: small, fast and good enough to make text with. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function corpus(seed = 20261124): Corpus {
  const next = random(seed);
  const words = new Set<string>();
  while (words.size < VOCABULARY) {
    const length = 2 + Math.floor(next() * 3);
    words.add(Array.from({ length }, () => SYLLABLES[Math.floor(next() * SYLLABLES.length)]).join(''));
  }
  const vocabulary = [...words];
  const cumulative = new Float64Array(VOCABULARY);
  let total = 0;
  for (let rank = 0; rank < VOCABULARY; rank++) cumulative[rank] = total += 1 / (rank + 1) ** ZIPF_EXPONENT;
  const draw = (r: () => number) => {
    const target = r() * total;
    let low = 0;
    let high = VOCABULARY - 1;
    while (low < high) {
      const mid = (low + high) >> 1;
      if (cumulative[mid]! < target) low = mid + 1;
      else high = mid;
    }
    return vocabulary[low]!;
  };
  return {
    vocabulary,
    message(n) {
      const r = random(seed ^ Math.imul(n + 1, 0x9e3779b1));
      return Array.from({ length: 8 + Math.floor(r() * 9) }, () => draw(r)).join(' ');
    },
  };
}
