import type { Kysely } from 'kysely';
import type { GroupEncryptionManager } from '../../infra/crypto/group-encryption-manager.js';
import type { ReadDb } from '../schema.js';

/** What every read-model query needs: the read database, and the keys to open sealed message bodies. */
export interface ReadContext {
  db: Kysely<any>;
  crypto: GroupEncryptionManager;
}

export const readDb = (ctx: Pick<ReadContext, 'db'>): ReadDb => ctx.db as ReadDb;
