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

/**
 * Tokens made lately, by search key, slice and term. Words repeat (a few common ones make most of any text), and an
 * HMAC costs more than the rest of indexing a message together, so most of a message's tokens are found here. Bounded
 * across all keys; the oldest go first.
 */
const recent = new Map<string, string>();
const RECENT_TOKENS = 100_000;
/** A number per search key for the cache's keys; a key no longer in use takes its number with it. */
const keyIds = new WeakMap<Uint8Array, number>();
let nextKeyId = 0;

export function blindToken(searchKey: Uint8Array, bucket: number, term: string): string {
  let keyId = keyIds.get(searchKey);
  if (keyId === undefined) keyIds.set(searchKey, (keyId = nextKeyId++));
  const id = `${keyId}|${bucket}|${term}`;
  let token = recent.get(id);
  if (token === undefined) {
    token = tokenOf(searchKey, bucket, term);
    if (recent.size >= RECENT_TOKENS) recent.delete(recent.keys().next().value!);
    recent.set(id, token);
  }
  return token;
}

function tokenOf(searchKey: Uint8Array, bucket: number, term: string): string {
  const mac = createHmac('sha256', searchKey).update(`${bucket}|${term}`).digest();
  // A leading digit: a token is never one of FULLTEXT's stopwords, and never below its minimum length of 3.
  let token = String(mac[0]! % 10);
  for (let i = 1; i <= LETTERS; i++) token += ALPHABET[mac[i]! % ALPHABET.length];
  return token;
}
