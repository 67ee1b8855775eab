/**
 * Blind index tokens: what the search column holds instead of words. A token is an HMAC of an index term (see
 * domain/search/index-terms.ts) under the group's search key and the slice of the group's history ("bucket") the
 * message lies in, so the database can match equal tokens without learning the words, the same word looks different
 * in every group and every slice, and the newest slices can be searched first.
 *
 * Tokens are short on purpose (storage stays under 3x the plaintext): about 23 bits, so two terms may share a token
 * now and then within a slice. Every candidate is confirmed on the decrypted text, so such a collision costs a
 * decryption, never a wrong result.
 */
import { createHmac } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const LETTERS = 4;

export function blindToken(searchKey: Uint8Array, bucket: number, term: string): string {
  const mac = createHmac('sha256', searchKey).update(`${bucket}|${term}`).digest();
  // A leading digit: a token is never one of FULLTEXT's stopwords, and never below its minimum length of 3.
  let token = String(mac[0]! % 10);
  for (let i = 1; i <= LETTERS; i++) token += ALPHABET[mac[i]! % ALPHABET.length];
  return token;
}
