/**
 * UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ids made one after another sort one after
 * another, so each new message lands at the end of the read models' primary-key B-trees (InnoDB clusters rows by
 * primary key) instead of on a random page: with random v4 ids a million-message group no longer fits the buffer pool
 * and every insert and page read goes to disk.
 */
import { randomBytes } from 'node:crypto';

export function timeOrderedId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
