import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { timeOrderedId } from '../../../src/infra/time-ordered-id.js';

describe('time-ordered ids', () => {
  it('are version-7 UUIDs that every UUID check accepts', () => {
    const id = timeOrderedId();
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(z.uuid().safeParse(id).success).toBe(true);
  });

  it('sort in the order of their milliseconds, and differ within one', () => {
    const start = Date.UTC(2026, 10, 24);
    const ids = [0, 1, 2, 1000, 86_400_000].map((ms) => timeOrderedId(start + ms));
    expect([...ids].sort()).toEqual(ids);
    expect(timeOrderedId(start)).not.toBe(timeOrderedId(start));
  });
});
