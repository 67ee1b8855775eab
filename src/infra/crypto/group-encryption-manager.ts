/**
 * Envelope encryption: one AES-256-GCM data key (DEK) per scope (a group, or the accounts stream) and key version,
 * stored only wrapped by the key-encryption key (KEK). Every ciphertext names its key version and is bound by AAD to
 * the context the caller gives (stream and event id, or group and message id) plus that version, so a ciphertext
 * copied anywhere else fails to open.
 *
 * Sealed layout: [format 1][key version u32 BE][nonce 12][tag 16][ciphertext].
 *
 * Versions: `rotate` adds one and seals use the newest from then on; older versions keep opening what they sealed.
 * Nonces are random, and GCM with random 96-bit nonces must stay well below 2^32 encryptions per key, so every seal
 * is counted against its version in the key store (shared by all processes) and a version is rotated automatically
 * after about `rotateAfter` seals. `shred` destroys every version: nothing of the scope opens again, anywhere.
 *
 * Once a scope's keys are in memory, sealing (and opening what their versions sealed) never waits for the key store:
 * counts are reserved ahead in blocks and versions re-read in the background. The projector seals inside its SQL
 * transaction, and on PGlite the key store would wait for the very connection that transaction holds.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyStore, WrappedKey } from '../keys/port.js';
import { forgetBlindTokens } from './blind-index.js';

const FORMAT = 1;
const HEADER = 1 + 4;
const NONCE = 12;
const TAG = 16;

/** 2^30 seals per version: a quarter of GCM's 2^32 random-nonce limit, leaving room for counts that arrive late. */
export const DEFAULT_ROTATE_AFTER = 2 ** 30;
/** Seals reserved from the key store's counter at a time: a round trip per block, and a crash wastes at most one. */
export const DEFAULT_RESERVE_BLOCK = 1024;
/** How long a process trusts the versions it read, so another process's rotation reaches it even if `forget` did not. */
export const DEFAULT_REFRESH_MS = 30_000;

/** The bus channel on which a process that rotated or shredded a scope tells the others to `forget` it. */
export const KEYS_CHANGED_CHANNEL = 'keys:changed';

export class DecryptionError extends Error {
  constructor(context: string) {
    super(`Ciphertext does not open in context ${context}`);
    this.name = 'DecryptionError';
  }
}

/** The scope's keys were destroyed on purpose (`mirror-chat keys shred`): its data is gone, not damaged. */
export class KeyShreddedError extends Error {
  constructor(readonly scope: string) {
    super(`The keys of ${scope} were shredded: its data can no longer be read`);
    this.name = 'KeyShreddedError';
  }
}

/** A short public fingerprint of a KEK, stored beside the keys it wraps. */
export function kekIdOf(kek: Uint8Array): string {
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'mirror-chat/kek-id', 8)).toString('hex');
}

function gcmSeal(key: Uint8Array, plaintext: Uint8Array, aad: string): Buffer {
  const nonce = randomBytes(NONCE);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([nonce, cipher.getAuthTag(), body]);
}

function gcmOpen(key: Uint8Array, sealed: Uint8Array, aad: string): Buffer {
  const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
  const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, NONCE));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(bytes.subarray(NONCE, NONCE + TAG));
  return Buffer.concat([decipher.update(bytes.subarray(NONCE + TAG)), decipher.final()]);
}

const wrapContext = (scope: string, version: number) => `kek-wrap|${scope}|v${version}`;

export interface SearchKey {
  version: number;
  key: Uint8Array;
}

interface Kek {
  id: string;
  key: Uint8Array;
}

interface ScopeKeys {
  current: number;
  keys: Map<number, Uint8Array>;
  /**
   * Seals of the current version reserved for this process in the key store and not made yet. Below zero: seals made
   * while the next reservation was on its way, which it covers.
   */
  left: number;
  reserving: boolean;
}

interface CachedScope {
  keys: Promise<ScopeKeys>;
  readAt: number;
  refreshing: boolean;
}

export interface EncryptionOptions {
  /** KEKs of earlier master-key rotations (MASTER_KEY_PREVIOUS): data keys they still wrap keep opening. */
  previousKeks?: Uint8Array[];
  /** Seals per data-key version (counted across processes) after which it is rotated automatically. */
  rotateAfter?: number;
  /** Seals reserved from the key store's shared counter at a time. */
  reserveBlock?: number;
  /** How long the versions read for a scope are trusted before they are read again. */
  refreshMs?: number;
}

export class GroupEncryptionManager {
  private current: Kek;
  /** Every KEK this process can unwrap with, by id: the current one and the previous ones. */
  private readonly keks = new Map<string, Uint8Array>();
  /** Unwrapped keys stay in memory only; a miss goes to the key store once per scope at a time. */
  private readonly cache = new Map<string, CachedScope>();
  /** Shredding is forever: once seen, a scope is refused without asking the store again. */
  private readonly shredded = new Set<string>();
  /** Key-store work that seals started and do not wait for. */
  private readonly background = new Set<Promise<void>>();
  private readonly rotateAfter: number;
  private readonly reserveBlock: number;
  private readonly refreshMs: number;

  constructor(
    private readonly store: KeyStore,
    kek: Uint8Array,
    options: EncryptionOptions = {},
  ) {
    for (const key of [kek, ...(options.previousKeks ?? [])]) {
      if (key.byteLength !== 32) throw new Error('A master key must be 32 bytes');
      this.keks.set(kekIdOf(key), key);
    }
    this.current = { id: kekIdOf(kek), key: kek };
    this.rotateAfter = options.rotateAfter ?? DEFAULT_ROTATE_AFTER;
    this.reserveBlock = options.reserveBlock ?? DEFAULT_RESERVE_BLOCK;
    this.refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS;
  }

  async seal(scope: string, plaintext: Uint8Array, context: string): Promise<Uint8Array> {
    const keys = await this.keysOf(scope);
    const version = keys.current;
    const key = keys.keys.get(version)!;
    this.count(scope, keys);
    const header = Buffer.alloc(HEADER);
    header.writeUInt8(FORMAT, 0);
    header.writeUInt32BE(version, 1);
    return Buffer.concat([header, gcmSeal(key, plaintext, `${context}|v${version}`)]);
  }

  async open(scope: string, sealed: Uint8Array, context: string): Promise<Uint8Array> {
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (bytes.byteLength < HEADER + NONCE + TAG || bytes.readUInt8(0) !== FORMAT) throw new DecryptionError(context);
    const version = bytes.readUInt32BE(1);
    let key = (await this.keysOf(scope)).keys.get(version);
    // Another process may have rotated since this one read the scope's versions.
    if (!key) key = (await this.reload(scope)).keys.get(version);
    if (!key) throw new DecryptionError(context);
    try {
      return gcmOpen(key, bytes.subarray(HEADER), `${context}|v${version}`);
    } catch {
      throw new DecryptionError(context);
    }
  }

  async sealText(scope: string, text: string, context: string): Promise<Uint8Array> {
    return this.seal(scope, Buffer.from(text, 'utf8'), context);
  }

  async openText(scope: string, sealed: Uint8Array, context: string): Promise<string> {
    return Buffer.from(await this.open(scope, sealed, context)).toString('utf8');
  }

  /**
   * The keys of a scope's blind search index, newest version first: one per data-key version, derived from it (HKDF),
   * so that destroying the data keys destroys them too. Tokens are made with the first; queries try them all.
   */
  async searchKeys(scope: string): Promise<SearchKey[]> {
    const { keys } = await this.keysOf(scope);
    return [...keys].sort(([a], [b]) => b - a).map(([version, key]) => ({ version, key: this.searchKeyOf(scope, version, key) }));
  }

  /**
   * Derived once per data key: the projector asks for every message it indexes. Keyed by the data key itself, so a
   * key dropped from the cache (forget, shred) takes its search key with it.
   */
  private readonly derivedSearchKeys = new WeakMap<Uint8Array, Uint8Array>();

  private searchKeyOf(scope: string, version: number, dataKey: Uint8Array): Uint8Array {
    let derived = this.derivedSearchKeys.get(dataKey);
    if (!derived) {
      derived = Buffer.from(hkdfSync('sha256', dataKey, Buffer.alloc(0), `mirror-search|${scope}|v${version}`, 32));
      this.derivedSearchKeys.set(dataKey, derived);
    }
    return derived;
  }

  /** Adds a data-key version after the newest stored one and seals with it from now on; answers the new version. */
  async rotate(scope: string): Promise<number> {
    const { current } = await this.reload(scope);
    return (await this.addVersion(scope, current + 1)).current;
  }

  /** Destroys every version of the scope's key, here and in the key store: nothing it sealed opens again. */
  async shred(scope: string): Promise<void> {
    await this.store.shred(scope);
    this.markShredded(scope);
  }

  async isShredded(scope: string): Promise<boolean> {
    return this.shredded.has(scope) || (await this.store.isShredded(scope));
  }

  /** Drops what this process knows of the scope's keys, so the next use reads them again (after another process changed them). */
  forget(scope: string): void {
    this.cache.delete(scope);
  }

  /** Waits for the key-store work started in the background (reservations, rotations, re-reads): before closing the store. */
  async settle(): Promise<void> {
    while (this.background.size > 0) await Promise.all(this.background);
  }

  /**
   * Re-wraps every stored data key under `newKek`, in one transaction, and makes it this manager's current KEK (the
   * old one stays usable as a previous one). Events and rows are untouched: the data keys themselves do not change.
   * Answers how many keys were re-wrapped.
   */
  async rotateMaster(newKek: Uint8Array): Promise<number> {
    if (newKek.byteLength !== 32) throw new Error('A master key must be 32 bytes');
    const next = { id: kekIdOf(newKek), key: newKek };
    const count = await this.rewrap(next, (k) => k.kekId !== next.id);
    this.keks.set(next.id, newKek);
    this.current = next;
    return count;
  }

  /**
   * Re-wraps under the current KEK the keys a previous one still wraps: those that servers not yet restarted after
   * a master-key rotation created. Once every server has run this, the previous KEKs can be dropped.
   */
  async rewrapPrevious(): Promise<number> {
    return this.rewrap(this.current, (k) => k.kekId !== this.current.id && this.keks.has(k.kekId));
  }

  private async rewrap(target: Kek, which: (key: WrappedKey) => boolean): Promise<number> {
    const stale = (await this.store.all()).filter(which);
    // Every key is unwrapped before anything is written: one this process cannot open stops the rotation unchanged.
    const rewrapped = stale.map((k) => ({ ...k, kekId: target.id, wrapped: gcmSeal(target.key, this.unwrap(k), wrapContext(k.scope, k.version)) }));
    if (rewrapped.length > 0) await this.store.rewrap(rewrapped);
    return rewrapped.length;
  }

  /**
   * Counts a seal against the current version. The next block is reserved while half of this one is left, together
   * with the seals made beyond the reservation meanwhile; when the version has made `rotateAfter` seals between all
   * processes, a new one is added and seals move to it.
   */
  private count(scope: string, keys: ScopeKeys): void {
    keys.left -= 1;
    if (keys.left >= this.reserveBlock / 2 || keys.reserving) return;
    keys.reserving = true;
    const n = this.reserveBlock + Math.max(0, -keys.left);
    this.inBackground(async () => {
      try {
        const used = await this.store.reserve(scope, keys.current, n);
        // Gone: the scope was shredded meanwhile, which the next use finds out.
        if (used === null) this.forget(scope);
        // current + 1, not newest + 1: processes reaching the limit together add one version between them.
        else if (used > this.rotateAfter) await this.addVersion(scope, keys.current + 1);
        else keys.left += n;
      } finally {
        keys.reserving = false;
      }
    });
  }

  /** A failed reservation or re-read is tried again by the next seal. */
  private inBackground(work: () => Promise<void>): void {
    const running: Promise<void> = work()
      .catch(() => {})
      .finally(() => this.background.delete(running));
    this.background.add(running);
  }

  private async addVersion(scope: string, version: number): Promise<ScopeKeys> {
    // False when another process added this version first, or the scope was shredded (reading it again tells).
    await this.store.insert(this.wrap(scope, version, randomBytes(32)));
    return this.reload(scope);
  }

  /** The scope's keys as this process knows them; when due, they are read again in the background. */
  private keysOf(scope: string): Promise<ScopeKeys> {
    const cached = this.cache.get(scope);
    if (!cached) return this.reload(scope);
    if (Date.now() - cached.readAt >= this.refreshMs && !cached.refreshing) {
      cached.refreshing = true;
      this.inBackground(async () => {
        try {
          const keys = await this.load(scope, cached.keys);
          if (this.cache.get(scope) === cached) this.cache.set(scope, { keys: Promise.resolve(keys), readAt: Date.now(), refreshing: false });
        } catch (error) {
          if (error instanceof KeyShreddedError) this.markShredded(scope);
        } finally {
          cached.refreshing = false;
        }
      });
    }
    return cached.keys;
  }

  private reload(scope: string): Promise<ScopeKeys> {
    if (this.shredded.has(scope)) return Promise.reject(new KeyShreddedError(scope));
    const entry: CachedScope = { keys: this.load(scope, this.cache.get(scope)?.keys), readAt: Date.now(), refreshing: false };
    this.cache.set(scope, entry);
    entry.keys.catch((error: unknown) => {
      if (this.cache.get(scope) === entry) this.cache.delete(scope);
      if (error instanceof KeyShreddedError) this.markShredded(scope);
    });
    return entry.keys;
  }

  private markShredded(scope: string): void {
    this.shredded.add(scope);
    this.cache.delete(scope);
    forgetBlindTokens();
  }

  /** Reads the scope's versions; `before`, what was known until now, hands over its count when the version is the same. */
  private async load(scope: string, before?: Promise<ScopeKeys>): Promise<ScopeKeys> {
    let stored = await this.store.versions(scope);
    if (stored.length === 0) {
      // Refused when another process stored version 1 first (read back below) or the scope is shredded.
      await this.store.insert(this.wrap(scope, 1, randomBytes(32)));
      stored = await this.store.versions(scope);
      if (stored.length === 0) throw new KeyShreddedError(scope);
    }
    const keys = new Map(stored.map((k) => [k.version, this.unwrap(k)]));
    const current = Math.max(...keys.keys());
    const known = await before?.catch(() => undefined);
    return { current, keys, left: known?.current === current ? known.left : 0, reserving: false };
  }

  private wrap(scope: string, version: number, dek: Uint8Array): WrappedKey {
    return { scope, version, wrapped: gcmSeal(this.current.key, dek, wrapContext(scope, version)), kekId: this.current.id };
  }

  private unwrap(k: WrappedKey): Buffer {
    const kek = this.keks.get(k.kekId);
    if (!kek) {
      throw new Error(
        `The data key of ${k.scope} (version ${k.version}) does not open with this master key: it was wrapped by master key ${k.kekId}, ` +
          'which is neither MASTER_KEY nor in MASTER_KEY_PREVIOUS',
      );
    }
    try {
      return gcmOpen(kek, k.wrapped, wrapContext(k.scope, k.version));
    } catch {
      throw new Error(`The data key of ${k.scope} (version ${k.version}) does not open with master key ${k.kekId}: the stored key is damaged`);
    }
  }
}
