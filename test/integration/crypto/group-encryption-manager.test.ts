import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import {
  DecryptionError,
  GroupEncryptionManager,
  KeyShreddedError,
  kekIdOf,
  type EncryptionOptions,
} from '../../../src/infra/crypto/group-encryption-manager.js';
import { createSqlKeyStore } from '../../../src/infra/keys/sql/index.js';
import { openMysqlDb } from '../../../src/infra/sql/mysql/index.js';
import { openPgliteDb } from '../../../src/infra/sql/pglite/index.js';
import { freshMariaDatabase, profile, type TestDatabase } from '../../support/backends.js';

const cleanups: Array<() => Promise<void>> = [];
/** A key database of its own: the master-key tests re-wrap every key in it. */
async function freshKeyDb(): Promise<Kysely<any>> {
  if (profile === 'embedded') {
    const db = await openPgliteDb();
    cleanups.push(() => db.destroy());
    return db;
  }
  const database: TestDatabase = await freshMariaDatabase();
  const db = openMysqlDb(database.url);
  cleanups.push(() => database.drop(), () => db.destroy());
  return db;
}

let db: Kysely<any>;
beforeAll(async () => {
  db = await freshKeyDb();
});
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** A manager as one server process has it; `on` another key database than the shared one. */
const manager = async (kek = randomBytes(32), options: EncryptionOptions = {}, on = db) =>
  new GroupEncryptionManager(await createSqlKeyStore(on, kekIdOf(kek)), kek, options);
/** Key scopes of their own per test: each test has its own master key, and keys are stored per scope. */
const scope = () => `group:${randomUUID()}`;
/** The key version a sealed value names (its header: format byte, then the version). */
const versionOf = (sealed: Uint8Array) => Buffer.from(sealed).readUInt32BE(1);

describe('GroupEncryptionManager', () => {
  it('opens what it sealed in the same context', async () => {
    const [m, a] = [await manager(), scope()];
    const sealed = await m.sealText(a, 'secret words', 'message|a|m1');
    expect(Buffer.from(sealed).includes('secret words')).toBe(false);
    expect(await m.openText(a, sealed, 'message|a|m1')).toBe('secret words');
  });

  it('refuses a ciphertext moved to another message or another group', async () => {
    const [m, a, b] = [await manager(), scope(), scope()];
    const sealed = await m.sealText(a, 'secret', 'message|a|m1');
    await m.sealText(b, 'another group has a key too', 'message|b|m0');
    await expect(m.openText(a, sealed, 'message|a|m2')).rejects.toBeInstanceOf(DecryptionError);
    await expect(m.openText(b, sealed, 'message|a|m1')).rejects.toBeInstanceOf(DecryptionError);
    await expect(m.openText(b, sealed, 'message|b|m1')).rejects.toBeInstanceOf(DecryptionError);
  });

  it('refuses a tampered ciphertext', async () => {
    const [m, c] = [await manager(), scope()];
    const sealed = Buffer.from(await m.sealText(c, 'secret', 'ctx'));
    sealed[sealed.length - 1]! ^= 1;
    await expect(m.openText(c, sealed, 'ctx')).rejects.toBeInstanceOf(DecryptionError);
  });

  it('gives each group its own key, shared by every process with the same master key', async () => {
    const [kek, d] = [randomBytes(32), scope()];
    const [one, two] = [await manager(kek), await manager(kek)];
    const sealed = await one.sealText(d, 'shared', 'ctx');
    expect(await two.openText(d, sealed, 'ctx')).toBe('shared');
    const stranger = await manager(randomBytes(32));
    await expect(stranger.openText(d, sealed, 'ctx')).rejects.toThrow(/does not open with this master key/);
  });

  it('uses a fresh nonce for every seal', async () => {
    const [m, e] = [await manager(), scope()];
    const [a, b] = [await m.sealText(e, 'same', 'ctx'), await m.sealText(e, 'same', 'ctx')];
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });
});

describe('rotation', () => {
  it('seals with the new version from then on, and still opens what older versions sealed', async () => {
    const [m, g] = [await manager(), scope()];
    const before = await m.sealText(g, 'before', 'ctx');
    expect(await m.rotate(g)).toBe(2);
    const after = await m.sealText(g, 'after', 'ctx');
    expect([versionOf(before), versionOf(after)]).toEqual([1, 2]);
    expect(await m.openText(g, before, 'ctx')).toBe('before');
    expect(await m.openText(g, after, 'ctx')).toBe('after');
    expect(await m.rotate(g)).toBe(3);
    expect((await m.searchKeys(g)).map((k) => k.version)).toEqual([3, 2, 1]);
  });

  it('reaches another process when told to forget the scope, or by itself once its versions are due for a re-read', async () => {
    const [kek, g] = [randomBytes(32), scope()];
    const [rotator, told, rereading] = [await manager(kek), await manager(kek), await manager(kek, { refreshMs: 0 })];
    for (const m of [told, rereading]) expect(versionOf(await m.sealText(g, 'x', 'ctx'))).toBe(1);

    await rotator.rotate(g);
    const newest = await rotator.sealText(g, 'newest', 'ctx');
    // Opening a newer version reads the versions again on its own.
    expect(await told.openText(g, newest, 'ctx')).toBe('newest');
    told.forget(g);
    expect(versionOf(await told.sealText(g, 'x', 'ctx'))).toBe(2);
    // Due for a re-read, it reads the versions again in the background, not making the seal wait.
    await rereading.sealText(g, 'x', 'ctx');
    await rereading.settle();
    expect(versionOf(await rereading.sealText(g, 'x', 'ctx'))).toBe(2);
    expect((await rereading.searchKeys(g)).map((k) => k.version)).toEqual([2, 1]);
  });

  it('rotates by itself before a version has made `rotateAfter` seals', async () => {
    const [m, g] = [await manager(randomBytes(32), { rotateAfter: 4, reserveBlock: 2 }), scope()];
    const sealed: Uint8Array[] = [];
    for (let i = 0; i < 12; i++) {
      sealed.push(await m.sealText(g, `m${i}`, `ctx${i}`));
      // Seals never wait for the key store; settling lets the counts land before the next one.
      await m.settle();
    }
    const versions = sealed.map(versionOf);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBeGreaterThanOrEqual(3);
    for (const version of new Set(versions)) expect(versions.filter((v) => v === version).length).toBeLessThanOrEqual(4);
    for (const [i, s] of sealed.entries()) expect(await m.openText(g, s, `ctx${i}`)).toBe(`m${i}`);
  });

  it('counts the seals of every process against the same version, and rotates it once between them', async () => {
    const [kek, g] = [randomBytes(32), scope()];
    const options = { rotateAfter: 4, reserveBlock: 2 };
    const [one, two] = [await manager(kek, options), await manager(kek, options)];
    const sealed: Array<{ by: string; text: string; value: Uint8Array }> = [];
    const seal = async (by: GroupEncryptionManager, times: number) => {
      for (let i = 0; i < times; i++) {
        const text = `message ${sealed.length}`;
        sealed.push({ by: by === one ? 'one' : 'two', text, value: await by.sealText(g, text, text) });
        await by.settle();
      }
    };

    // The first process reserves three of version 1's four seals (a block ahead of what it made).
    await seal(one, 2);
    // The second's first reservation finds version 1 used up: it adds version 2 and moves to it.
    await seal(two, 2);
    // The first makes the seal it still holds, then finds version 2 there rather than adding a third.
    await seal(one, 1);
    expect(sealed.map((s) => `${s.by} v${versionOf(s.value)}`)).toEqual(['one v1', 'one v1', 'two v1', 'two v2', 'one v1']);
    expect((await two.searchKeys(g)).map((k) => k.version)).toEqual([2, 1]);
    await seal(one, 1);
    expect(versionOf(sealed.at(-1)!.value)).toBe(2);
    for (const s of sealed) expect(await two.openText(g, s.value, s.text)).toBe(s.text);
  });

  it('counts the seals of a burst that outruns its reservation, and rotates once they pass the limit', async () => {
    const [m, g] = [await manager(randomBytes(32), { rotateAfter: 8, reserveBlock: 2 }), scope()];
    const burst = await Promise.all(Array.from({ length: 40 }, (_, i) => m.sealText(g, `m${i}`, `ctx${i}`)));
    expect(new Set(burst.map(versionOf))).toEqual(new Set([1]));
    await m.settle();
    await m.sealText(g, 'next', 'ctx-next');
    await m.settle();
    expect(versionOf(await m.sealText(g, 'after', 'ctx-after'))).toBe(2);
    expect(await Promise.all(burst.map((s, i) => m.openText(g, s, `ctx${i}`)))).toEqual(burst.map((_, i) => `m${i}`));
  });
});

describe('shredding', () => {
  it('makes nothing of the scope open or seal again, with an error of its own, and creates no new key', async () => {
    const [kek, g, other] = [randomBytes(32), scope(), scope()];
    const m = await manager(kek);
    const sealed = await m.sealText(g, 'gone', 'ctx');
    await m.rotate(g);
    const kept = await m.sealText(other, 'kept', 'ctx');

    await m.shred(g);

    await expect(m.openText(g, sealed, 'ctx')).rejects.toBeInstanceOf(KeyShreddedError);
    await expect(m.sealText(g, 'new', 'ctx')).rejects.toBeInstanceOf(KeyShreddedError);
    await expect(m.searchKeys(g)).rejects.toBeInstanceOf(KeyShreddedError);
    await expect(m.rotate(g)).rejects.toBeInstanceOf(KeyShreddedError);
    const fresh = await manager(kek);
    await expect(fresh.openText(g, sealed, 'ctx')).rejects.toBeInstanceOf(KeyShreddedError);
    await expect(fresh.sealText(g, 'new', 'ctx')).rejects.toBeInstanceOf(KeyShreddedError);
    expect(await (await createSqlKeyStore(db, kekIdOf(kek))).versions(g)).toEqual([]);
    expect(await fresh.isShredded(g)).toBe(true);
    expect(await fresh.openText(other, kept, 'ctx')).toBe('kept');
  });

  it('reaches another process at once when it is told to forget the scope, or at its next reservation', async () => {
    const [kek, g] = [randomBytes(32), scope()];
    const [shredder, told, sealing] = [await manager(kek), await manager(kek), await manager(kek, { reserveBlock: 1 })];
    const sealed = await shredder.sealText(g, 'gone', 'ctx');
    for (const m of [told, sealing]) expect(await m.openText(g, sealed, 'ctx')).toBe('gone');

    await shredder.shred(g);

    told.forget(g);
    await expect(told.openText(g, sealed, 'ctx')).rejects.toBeInstanceOf(KeyShreddedError);
    await expect(told.searchKeys(g)).rejects.toBeInstanceOf(KeyShreddedError);
    // Not told, it seals once more with the key it holds; the reservation that seal starts finds the key gone.
    await sealing.sealText(g, 'unaware', 'ctx');
    await sealing.settle();
    await expect(sealing.sealText(g, 'new', 'ctx')).rejects.toBeInstanceOf(KeyShreddedError);
    await expect(sealing.openText(g, sealed, 'ctx')).rejects.toBeInstanceOf(KeyShreddedError);
  });
});

describe('master keys', () => {
  it('re-wraps every data key under a new master key, after which that key alone opens everything', async () => {
    const keyDb = await freshKeyDb();
    const [oldKek, newKek, a, b] = [randomBytes(32), randomBytes(32), scope(), scope()];
    const m = await manager(oldKek, {}, keyDb);
    const first = await m.sealText(a, 'a1', 'ctx');
    await m.rotate(a);
    const second = await m.sealText(a, 'a2', 'ctx');
    const third = await m.sealText(b, 'b1', 'ctx');

    expect(await m.rotateMaster(newKek)).toBe(3);

    const withNew = await manager(newKek, {}, keyDb);
    expect(await withNew.openText(a, first, 'ctx')).toBe('a1');
    expect(await withNew.openText(a, second, 'ctx')).toBe('a2');
    expect(await withNew.openText(b, third, 'ctx')).toBe('b1');
    await expect((await manager(oldKek, {}, keyDb)).openText(a, first, 'ctx')).rejects.toThrow(/does not open with this master key/);
    // The rotating process wraps the keys it creates afterwards under the new master key too.
    const c = scope();
    const later = await m.sealText(c, 'c1', 'ctx');
    expect(await withNew.openText(c, later, 'ctx')).toBe('c1');
  });

  it('opens keys a previous master key wraps, and re-wraps them under the current one', async () => {
    const keyDb = await freshKeyDb();
    const [oldKek, newKek, g] = [randomBytes(32), randomBytes(32), scope()];
    // A server not yet restarted after the rotation still creates keys under the old master key.
    const sealed = await (await manager(oldKek, {}, keyDb)).sealText(g, 'made by an old server', 'ctx');

    const restarted = await manager(newKek, { previousKeks: [oldKek] }, keyDb);
    expect(await restarted.openText(g, sealed, 'ctx')).toBe('made by an old server');
    expect(await restarted.rewrapPrevious()).toBe(1);
    expect(await restarted.rewrapPrevious()).toBe(0);
    expect(await (await manager(newKek, {}, keyDb)).openText(g, sealed, 'ctx')).toBe('made by an old server');
  });

  it('changes nothing when a key is wrapped by a master key it does not have', async () => {
    const keyDb = await freshKeyDb();
    const [mine, unknown, g, h] = [randomBytes(32), randomBytes(32), scope(), scope()];
    const sealed = await (await manager(mine, {}, keyDb)).sealText(g, 'mine', 'ctx');
    await (await manager(unknown, {}, keyDb)).sealText(h, 'not mine', 'ctx');

    await expect((await manager(mine, {}, keyDb)).rotateMaster(randomBytes(32))).rejects.toThrow(/neither MASTER_KEY nor in MASTER_KEY_PREVIOUS/);
    expect(await (await manager(mine, {}, keyDb)).openText(g, sealed, 'ctx')).toBe('mine');
  });
});
