/**
 * Blind index tokens: what the search column holds instead of words. A token is an HMAC of an index term (see
 * domain/search/index-terms.ts) under the group's search key and the slice of the group's history ("bucket") the
 * message lies in, so the database can match equal tokens without learning the words, the same word looks different
 * in every group and every slice, and the newest slices can be searched first.
 *
 * Tokens are short on purpose (storage stays under 3x the plaintext): about 28 bits, so two terms may share a token
 * now and then. Every candidate is confirmed on the decrypted text, so a collision never gives a wrong result, but it
 * costs time: the full-text index is one for all groups, and a query token that collides with a common word of some
 * other group's slice makes the look-up list (and MySQL fetch and turn away) thousands of that group's rows: at 23
 * bits and a million messages, several milliseconds on a few searches in a hundred.
 */
import { createHmac } from 'node:crypto';
import { recentCache } from '../recent-cache.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';
const LETTERS = 5;

/**
 * Tokens made lately, by search key, slice and term. Words repeat (a few common ones make most of any text), and an
 * HMAC costs more than the rest of indexing a message together, so most of a message's tokens are found here.
 * Forgotten at once when a group is shredded.
 */
const remembered = recentCache<string>(50_000);
/** A number per search key for the cache's keys; a key no longer in use takes its number with it. */
const keyIds = new WeakMap<Uint8Array, number>();
let nextKeyId = 0;

/** Forgets every remembered token: a shredded group's words must not outlive its keys in memory either. */
export function forgetBlindTokens(): void {
  remembered.clear();
}

export function blindToken(searchKey: Uint8Array, bucket: number, term: string): string {
  let keyId = keyIds.get(searchKey);
  if (keyId === undefined) keyIds.set(searchKey, (keyId = nextKeyId++));
  const id = `${keyId}|${bucket}|${term}`;
  let token = remembered.get(id);
  if (token === undefined) remembered.set(id, (token = tokenOf(searchKey, bucket, term)));
  return token;
}

function tokenOf(searchKey: Uint8Array, bucket: number, term: string): string {
  const mac = createHmac('sha256', searchKey).update(`${bucket}|${term}`).digest();
  // A leading digit: a token is never one of FULLTEXT's stopwords, and never below its minimum length of 3.
  let token = String(mac[0]! % 10);
  for (let i = 1; i <= LETTERS; i++) token += ALPHABET[mac[i]! % ALPHABET.length];
  return token;
}
