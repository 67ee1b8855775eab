import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { blindToken } from '../../../src/infra/crypto/blind-index.js';

const terms = Array.from({ length: 50 }, (_, i) => `p5:word${i}`);

describe('blind tokens', () => {
  it('are the same for the same key, slice and term, however many other tokens were made in between', () => {
    const key = randomBytes(32);
    const first = terms.map((term) => blindToken(key, 7, term));
    // More tokens than are remembered, so the first ones are made again from the key.
    for (let i = 0; i < 120_000; i++) blindToken(key, 8, `p5:filler${i}`);
    expect(terms.map((term) => blindToken(Buffer.from(key), 7, term))).toEqual(first);
    expect(terms.map((term) => blindToken(key, 7, term))).toEqual(first);
  });

  it('differ between keys and between slices, remembered or not', () => {
    const key = randomBytes(32);
    const other = randomBytes(32);
    const tokens = terms.map((term) => blindToken(key, 1, term));
    const differing = (others: string[]) => others.filter((token, i) => token !== tokens[i]).length;
    // About 28 bits each: two of fifty colliding by chance is already unlikely.
    expect(differing(terms.map((term) => blindToken(other, 1, term)))).toBeGreaterThanOrEqual(48);
    expect(differing(terms.map((term) => blindToken(key, 2, term)))).toBeGreaterThanOrEqual(48);
  });

  it('are an HMAC of the slice and term under the search key, as stored indexes hold them', () => {
    const key = Buffer.alloc(32, 1);
    const mac = createHmac('sha256', key).update('3|p5:deplo').digest();
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    const expected = String(mac[0]! % 10) + [1, 2, 3, 4, 5].map((i) => alphabet[mac[i]! % 32]).join('');
    expect(blindToken(key, 3, 'p5:deplo')).toBe(expected);
  });
});
