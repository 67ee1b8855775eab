/** Where wrapped data keys live. Only keys wrapped by a key-encryption key (KEK) are ever stored. */
export interface WrappedKey {
  /** What the key protects: `group:<id>` for a group, `stream:<id>` for another stream. */
  scope: string;
  version: number;
  wrapped: Uint8Array;
  /** Fingerprint of the KEK that wrapped it (never the KEK itself), so a rotated master key knows what is left to re-wrap. */
  kekId: string;
}

export interface KeyStore {
  /** Every stored version of a scope's key, oldest first; none once the scope is shredded. */
  versions(scope: string): Promise<WrappedKey[]>;
  /** Stores a new version; false when that version already exists (another process won the race) or the scope is shredded. */
  insert(key: WrappedKey): Promise<boolean>;
  /**
   * Counts `n` more uses of a key version and answers its new total, atomically, so that every process drawing on one
   * version adds to the same count; null when the version does not exist (its scope was shredded).
   */
  reserve(scope: string, version: number, n: number): Promise<number | null>;
  /** Deletes every version of the scope and records that it was shredded (and when), in one transaction. */
  shred(scope: string): Promise<void>;
  isShredded(scope: string): Promise<boolean>;
  /** Every stored key of every scope. */
  all(): Promise<WrappedKey[]>;
  /** Replaces the wrapping (`wrapped` and `kekId`) of each given (scope, version), all in one transaction. */
  rewrap(keys: WrappedKey[]): Promise<void>;
}
