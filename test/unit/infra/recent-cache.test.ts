import { describe, expect, it } from 'vitest';
import { recentCache } from '../../../src/infra/recent-cache.js';

describe('a cache of recent entries', () => {
  it('keeps what is still asked for, and forgets what was not asked for over two generations', () => {
    const cache = recentCache<number>(3);
    for (const [i, key] of ['a', 'b', 'c'].entries()) cache.set(key, i);
    cache.set('d', 3); // a, b, c become the older generation
    expect(cache.get('a')).toBe(0); // asked again: back among the newer
    for (const key of ['e', 'f', 'g']) cache.set(key, 9);
    expect(cache.get('a')).toBe(0);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('c')).toBeUndefined();
  });

  it('never holds more than two generations, however much is put in', () => {
    const cache = recentCache<number>(100);
    for (let i = 0; i < 10_000; i++) cache.set(`k${i}`, i);
    const held = Array.from({ length: 10_000 }, (_, i) => cache.get(`k${i}`)).filter((v) => v !== undefined);
    expect(held.length).toBeLessThanOrEqual(200);
    expect(cache.get('k9999')).toBe(9999);
  });

  it('forgets an entry, or everything, when told', () => {
    const cache = recentCache<string>(10);
    cache.set('a', 'x');
    cache.set('b', 'y');
    cache.delete('a');
    expect(cache.get('a')).toBeUndefined();
    cache.clear();
    expect(cache.get('b')).toBeUndefined();
  });
});
