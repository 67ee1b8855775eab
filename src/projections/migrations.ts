/**
 * The read models' schema, one body of code for MySQL/MariaDB and PostgreSQL/PGlite. Migrations are append-only:
 * a later feature (reactions, reads, pins, mentions, …) adds its tables as a new entry, named so it sorts last.
 */
import { Migrator, sql, type CreateTableBuilder, type Kysely, type Migration } from 'kysely';
import { columnTypes, sqlFlavor } from '../infra/sql/dialect.js';

/** On MySQL every string compares byte for byte, as in PostgreSQL: ids, keys and names mean the same in both. */
function createTable(db: Kysely<any>, name: string): CreateTableBuilder<string, never> {
  const table = db.schema.createTable(name);
  return sqlFlavor(db) === 'mysql' ? table.modifyEnd(sql`engine=InnoDB default charset=utf8mb4 collate=utf8mb4_bin`) : table;
}

const chatCore: Migration = {
  async up(db) {
    const flavor = sqlFlavor(db);
    const { timestamp } = columnTypes(flavor);
    // A sealed body of 10,000 characters plus metadata can pass the 64 KiB of MySQL's blob.
    const sealed = flavor === 'mysql' ? sql`mediumblob` : columnTypes(flavor).binary;

    await createTable(db, 'mirror_users')
      .addColumn('id', 'integer', (c) => c.primaryKey())
      .addColumn('username', 'varchar(32)', (c) => c.notNull())
      .addColumn('email', 'varchar(254)', (c) => c.notNull())
      .addColumn('username_key', 'char(64)', (c) => c.notNull().unique())
      .addColumn('email_key', 'char(64)', (c) => c.notNull().unique())
      .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
      .addColumn('created_at', timestamp, (c) => c.notNull())
      .execute();

    await createTable(db, 'mirror_groups')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('name', 'varchar(255)', (c) => c.notNull())
      .addColumn('owner_user_id', 'integer', (c) => c.notNull())
      .addColumn('created_at', timestamp, (c) => c.notNull())
      .addColumn('updated_at', timestamp, (c) => c.notNull())
      .execute();

    await createTable(db, 'mirror_group_members')
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('user_id', 'integer', (c) => c.notNull())
      .addColumn('role', 'varchar(16)', (c) => c.notNull())
      .addColumn('joined_at', timestamp, (c) => c.notNull())
      .addPrimaryKeyConstraint('mirror_group_members_pk', ['group_id', 'user_id'])
      .execute();
    await db.schema.createIndex('mirror_group_members_user').on('mirror_group_members').column('user_id').execute();

    await createTable(db, 'mirror_group_messages')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('sender_user_id', 'integer', (c) => c.notNull())
      .addColumn('body_sealed', sealed)
      .addColumn('content_type', 'varchar(16)', (c) => c.notNull())
      .addColumn('parent_message_id', 'varchar(36)')
      .addColumn('thread_root_id', 'varchar(36)')
      .addColumn('thread_reply_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('status', 'varchar(16)', (c) => c.notNull().defaultTo('sent'))
      .addColumn('is_edited', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('edited_at', timestamp)
      .addColumn('is_deleted', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('deleted_at', timestamp)
      .addColumn('client_message_id', 'varchar(255)')
      .addColumn('created_at', timestamp, (c) => c.notNull())
      .addColumn('updated_at', timestamp, (c) => c.notNull())
      // Pages of a group's history are ranges of this key, in either direction.
      .addUniqueConstraint('mirror_group_messages_group_seq', ['group_id', 'seq'])
      .execute();
    await db.schema
      .createIndex('mirror_group_messages_thread')
      .on('mirror_group_messages')
      .columns(['thread_root_id', 'seq'])
      .execute();

    await createTable(db, 'mirror_projection_checkpoints')
      .addColumn('projection', 'varchar(64)', (c) => c.primaryKey())
      .addColumn('position', 'varchar(64)', (c) => c.notNull())
      .addColumn('updated_at', timestamp, (c) => c.notNull())
      .execute();
  },
};

const migrations: Record<string, Migration> = {
  '0001_chat_core': chatCore,
};

/** Brings the read database up to date; safe to run from several processes at once (the Migrator locks). */
export async function migrateReadModels(db: Kysely<any>): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'mirror_read_migrations',
    migrationLockTableName: 'mirror_read_migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
