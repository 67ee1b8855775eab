import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { randomBytes, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { DecryptionError, GroupEncryptionManager } from '../../../src/infra/crypto/group-encryption-manager.js';
import { createSqlKeyStore } from '../../../src/infra/keys/sql/index.js';
import { openMysqlDb } from '../../../src/infra/sql/mysql/index.js';
import { openPgliteDb } from '../../../src/infra/sql/pglite/index.js';
import { freshMariaDatabase, profile, type TestDatabase } from '../../support/backends.js';

let db: Kysely<any>;
let database: TestDatabase | undefined;
beforeAll(async () => {
  if (profile === 'full') {
    database = await freshMariaDatabase();
    db = openMysqlDb(database.url);
  } else {
    db = await openPgliteDb();
  }
});
afterAll(async () => {
  await db.destroy();
  await database?.drop();
});

const manager = async (kek = randomBytes(32)) => new GroupEncryptionManager(await createSqlKeyStore(db), kek);
/** Key scopes of their own per test: each test has its own master key, and keys are stored per scope. */
const scope = () => `group:${randomUUID()}`;

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
