/**
 * What every KeyStore must do. `open` gives another client of the same store, as another server process (or the
 * `mirror-chat keys` command) would have.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyStore, WrappedKey } from '../../src/infra/keys/port.js';

export interface KeyStoreHarness {
  open(): Promise<KeyStore>;
  cleanup(): Promise<void>;
}

const scope = () => `group:${randomUUID()}`;
const key = (scopeName: string, version: number, kekId = 'kek-a'): WrappedKey => ({ scope: scopeName, version, wrapped: new Uint8Array(randomBytes(60)), kekId });

export function keyStoreContract(name: string, setup: () => Promise<KeyStoreHarness>): void {
  describe(`KeyStore contract: ${name}`, () => {
    let harness: KeyStoreHarness;
    let here: KeyStore;
    let there: KeyStore;

    beforeAll(async () => {
      harness = await setup();
      [here, there] = [await harness.open(), await harness.open()];
    });
    afterAll(async () => {
      await harness?.cleanup();
    });

    it('keeps every version of a scope, oldest first, with the KEK that wrapped it', async () => {
      const s = scope();
      const [v1, v2] = [key(s, 1, 'kek-a'), key(s, 2, 'kek-b')];
      expect(await here.insert(v2)).toBe(true);
      expect(await here.insert(v1)).toBe(true);
      expect(await there.versions(s)).toEqual([v1, v2]);
      expect(await there.versions(scope())).toEqual([]);
    });

    it('stores a version once: of processes racing to add it, exactly one wins', async () => {
      const s = scope();
      const attempts = [here, there, here, there].map((store) => store.insert(key(s, 1)));
      expect((await Promise.all(attempts)).filter(Boolean)).toHaveLength(1);
      expect(await here.versions(s)).toHaveLength(1);
    });

    it('counts the uses of a version across processes, each reservation answering the new total', async () => {
      const s = scope();
      await here.insert(key(s, 1));
      await here.insert(key(s, 2));
      const totals = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? here : there).reserve(s, 1, 5)));
      expect([...totals].sort((a, b) => a! - b!)).toEqual(Array.from({ length: 12 }, (_, i) => (i + 1) * 5));
      expect(await there.reserve(s, 2, 3)).toBe(3);
      expect(await here.reserve(s, 1, 1)).toBe(61);
      expect(await here.reserve(s, 3, 1)).toBeNull();
    });

    it('shreds every version of a scope and nothing else, and never stores a key for it again', async () => {
      const [s, other] = [scope(), scope()];
      const prefixed = `${s}-other`;
      for (const k of [key(s, 1), key(s, 2), key(other, 1), key(prefixed, 1)]) await here.insert(k);
      expect(await here.isShredded(s)).toBe(false);

      await there.shred(s);

      expect(await here.versions(s)).toEqual([]);
      expect(await here.isShredded(s)).toBe(true);
      expect(await here.insert(key(s, 1))).toBe(false);
      expect(await here.insert(key(s, 3))).toBe(false);
      expect(await here.versions(s)).toEqual([]);
      expect(await here.reserve(s, 1, 1)).toBeNull();
      expect(await here.versions(other)).toHaveLength(1);
      expect(await here.versions(prefixed)).toHaveLength(1);
      expect(await here.isShredded(other)).toBe(false);
      await here.shred(s);
      expect(await there.isShredded(s)).toBe(true);
    });

    it('shreds a scope that never had a key, which then never gets one', async () => {
      const s = scope();
      await here.shred(s);
      expect(await there.insert(key(s, 1))).toBe(false);
      expect(await there.versions(s)).toEqual([]);
    });

    it('leaves no key behind when a process adds one while another shreds the scope', async () => {
      const scopes = Array.from({ length: 8 }, scope);
      await Promise.all(scopes.map((s, i) => (i % 2 ? here : there).insert(key(s, 1))));
      await Promise.all(scopes.flatMap((s, i) => [(i % 2 ? here : there).insert(key(s, 2)), (i % 2 ? there : here).shred(s)]));
      for (const s of scopes) {
        expect(await here.versions(s)).toEqual([]);
        expect(await here.isShredded(s)).toBe(true);
      }
    });

    it('lists every key and re-wraps the given ones together', async () => {
      const [a, b] = [scope(), scope()];
      const keys = [key(a, 1), key(a, 2), key(b, 1)];
      for (const k of keys) await here.insert(k);
      const listed = (await there.all()).filter((k) => k.scope === a || k.scope === b);
      expect(listed.sort((x, y) => x.scope.localeCompare(y.scope) || x.version - y.version)).toEqual(
        [...keys].sort((x, y) => x.scope.localeCompare(y.scope) || x.version - y.version),
      );

      const rewrapped = [{ ...keys[0]!, wrapped: new Uint8Array(randomBytes(60)), kekId: 'kek-new' }, { ...keys[2]!, wrapped: new Uint8Array(randomBytes(60)), kekId: 'kek-new' }];
      await there.rewrap(rewrapped);
      expect(await here.versions(a)).toEqual([rewrapped[0], keys[1]]);
      expect(await here.versions(b)).toEqual([rewrapped[1]]);
    });
  });
}
