/**
 * Envelope encryption: one AES-256-GCM data key (DEK) per scope (a group, or the accounts stream) and key version,
 * stored only wrapped by the key-encryption key (KEK). Every ciphertext names its key version and is bound by AAD to
 * the context the caller gives (stream and event id, or group and message id) plus that version, so a ciphertext
 * copied anywhere else fails to open.
 *
 * Sealed layout: [format 1][key version u32 BE][nonce 12][tag 16][ciphertext].
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyStore } from '../keys/port.js';

const FORMAT = 1;
const HEADER = 1 + 4;
const NONCE = 12;
const TAG = 16;

export class DecryptionError extends Error {
  constructor(context: string) {
    super(`Ciphertext does not open in context ${context}`);
    this.name = 'DecryptionError';
  }
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

interface ScopeKeys {
  current: number;
  keys: Map<number, Uint8Array>;
}

export class GroupEncryptionManager {
  /** Unwrapped keys stay in memory only; a miss goes to the key store once per scope at a time. */
  private readonly cache = new Map<string, Promise<ScopeKeys>>();

  constructor(
    private readonly store: KeyStore,
    private readonly kek: Uint8Array,
  ) {
    if (kek.byteLength !== 32) throw new Error('The master key must be 32 bytes');
  }

  async seal(scope: string, plaintext: Uint8Array, context: string): Promise<Uint8Array> {
    const keys = await this.keysOf(scope);
    const version = keys.current;
    const header = Buffer.alloc(HEADER);
    header.writeUInt8(FORMAT, 0);
    header.writeUInt32BE(version, 1);
    return Buffer.concat([header, gcmSeal(keys.keys.get(version)!, plaintext, `${context}|v${version}`)]);
  }

  async open(scope: string, sealed: Uint8Array, context: string): Promise<Uint8Array> {
    const bytes = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (bytes.byteLength < HEADER + NONCE + TAG || bytes.readUInt8(0) !== FORMAT) throw new DecryptionError(context);
    const version = bytes.readUInt32BE(1);
    let key = (await this.keysOf(scope)).keys.get(version);
    if (!key) {
      // Another process may have rotated since this one cached the scope.
      this.cache.delete(scope);
      key = (await this.keysOf(scope)).keys.get(version);
    }
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

  private keysOf(scope: string): Promise<ScopeKeys> {
    let pending = this.cache.get(scope);
    if (!pending) {
      pending = this.load(scope);
      pending.catch(() => this.cache.delete(scope));
      this.cache.set(scope, pending);
    }
    return pending;
  }

  private async load(scope: string): Promise<ScopeKeys> {
    let stored = await this.store.versions(scope);
    if (stored.length === 0) {
      const dek = randomBytes(32);
      // Losing the insert race is fine: the winner's key is read back below.
      await this.store.insert({ scope, version: 1, wrapped: gcmSeal(this.kek, dek, wrapContext(scope, 1)) });
      stored = await this.store.versions(scope);
    }
    const keys = new Map<number, Uint8Array>();
    for (const k of stored) {
      try {
        keys.set(k.version, gcmOpen(this.kek, k.wrapped, wrapContext(scope, k.version)));
      } catch {
        throw new Error(`The data key of ${scope} (version ${k.version}) does not open with this master key: is MASTER_KEY the one this data was written with?`);
      }
    }
    return { current: Math.max(...keys.keys()), keys };
  }
}

const wrapContext = (scope: string, version: number) => `kek-wrap|${scope}|v${version}`;
