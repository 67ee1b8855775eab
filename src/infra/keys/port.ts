/** Where wrapped data keys live. Only keys wrapped by the key-encryption key are ever stored. */
export interface WrappedKey {
  /** What the key protects: `group:<id>` for a group, `users` for accounts. */
  scope: string;
  version: number;
  wrapped: Uint8Array;
}

export interface KeyStore {
  /** Every stored version of a scope's key, oldest first. */
  versions(scope: string): Promise<WrappedKey[]>;
  /** Stores a new version; false when that version already exists (another process won the race). */
  insert(key: WrappedKey): Promise<boolean>;
}
