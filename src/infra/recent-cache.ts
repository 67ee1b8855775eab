/**
 * A bounded memo of what was computed lately, in two generations: what is asked for again moves to the newer, and
 * when the newer fills up it becomes the older and the older is dropped. What is still used stays, and nothing is
 * evicted one entry at a time: deleting a Map's oldest entry again and again makes V8 skip ever more holes to find
 * the next (44 µs an insert at 100k entries).
 */
export interface RecentCache<V> {
  get(key: string): V | undefined;
  set(key: string, value: V): void;
  delete(key: string): void;
  clear(): void;
}

/** Holds up to two generations of `generation` entries each. */
export function recentCache<V>(generation: number): RecentCache<V> {
  let newer = new Map<string, V>();
  let older = new Map<string, V>();
  const set = (key: string, value: V) => {
    if (newer.size >= generation) {
      older = newer;
      newer = new Map();
    }
    newer.set(key, value);
  };
  return {
    get(key) {
      const value = newer.get(key);
      if (value !== undefined) return value;
      const kept = older.get(key);
      if (kept !== undefined) set(key, kept);
      return kept;
    },
    set,
    delete(key) {
      newer.delete(key);
      older.delete(key);
    },
    clear() {
      newer = new Map();
      older = new Map();
    },
  };
}
