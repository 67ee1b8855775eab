/**
 * The read models' schema, one body of code for MySQL/MariaDB and PostgreSQL/PGlite. Migrations are append-only:
 * a later feature (reactions, reads, pins, mentions, …) adds its tables as a new entry, named so it sorts last.
 */
import { Migrator, sql, type CreateTableBuilder, type Kysely, type Migration, type MigratorProps } from 'kysely';
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

/** The rest of the guide's ten tables, and the counters that keep unread counts O(1) however long a group's history. */
const chatFeatures: Migration = {
  async up(db) {
    const flavor = sqlFlavor(db);
    const { timestamp, binary } = columnTypes(flavor);

    await db.schema
      .alterTable('mirror_group_members')
      .addColumn('unread_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .alterTable('mirror_group_members')
      .addColumn('unread_mention_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    // Live (not deleted) messages: a new member's unread count starts from it.
    await db.schema
      .alterTable('mirror_groups')
      .addColumn('live_message_count', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await db.schema
      .createIndex('mirror_group_messages_sender')
      .on('mirror_group_messages')
      .columns(['group_id', 'sender_user_id'])
      .execute();

    await createTable(db, 'mirror_group_message_reads')
      .addColumn('message_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('user_id', 'integer', (c) => c.notNull())
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('read_at', timestamp, (c) => c.notNull())
      .addPrimaryKeyConstraint('mirror_group_message_reads_pk', ['message_id', 'user_id'])
      .execute();
    await db.schema.createIndex('mirror_group_message_reads_user').on('mirror_group_message_reads').columns(['group_id', 'user_id']).execute();

    await createTable(db, 'mirror_group_message_reactions')
      .addColumn('message_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('emoji', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'integer', (c) => c.notNull())
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('created_at', timestamp, (c) => c.notNull())
      .addPrimaryKeyConstraint('mirror_group_message_reactions_pk', ['message_id', 'emoji', 'user_id'])
      .execute();

    await createTable(db, 'mirror_group_chat_attachments')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('message_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      // File names can say as much as message text: sealed like it.
      .addColumn('file_name_sealed', binary, (c) => c.notNull())
      .addColumn('file_type', 'varchar(127)', (c) => c.notNull())
      .addColumn('file_size', 'bigint', (c) => c.notNull())
      .addColumn('file_path', 'varchar(1024)', (c) => c.notNull())
      .addColumn('thumbnail_path', 'varchar(1024)')
      .addColumn('width', 'integer')
      .addColumn('height', 'integer')
      .addColumn('duration', 'integer')
      .addColumn('is_encrypted', 'boolean', (c) => c.notNull().defaultTo(true))
      .addColumn('processing_status', 'varchar(16)', (c) => c.notNull().defaultTo('pending'))
      .addColumn('created_at', timestamp, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('mirror_group_chat_attachments_message').on('mirror_group_chat_attachments').column('message_id').execute();

    await createTable(db, 'mirror_group_typing_indicators')
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('user_id', 'integer', (c) => c.notNull())
      .addColumn('started_at', timestamp, (c) => c.notNull())
      .addColumn('expires_at', timestamp, (c) => c.notNull())
      .addPrimaryKeyConstraint('mirror_group_typing_indicators_pk', ['group_id', 'user_id'])
      .execute();

    await createTable(db, 'mirror_group_chat_preferences')
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('user_id', 'integer', (c) => c.notNull())
      .addColumn('muted', 'boolean', (c) => c.notNull().defaultTo(false))
      .addColumn('notify_level', 'varchar(16)', (c) => c.notNull().defaultTo('all'))
      .addColumn('updated_at', timestamp, (c) => c.notNull())
      .addPrimaryKeyConstraint('mirror_group_chat_preferences_pk', ['group_id', 'user_id'])
      .execute();

    await createTable(db, 'mirror_group_message_mentions')
      .addColumn('message_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('mentioned_user_id', 'integer', (c) => c.notNull())
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('mention_type', 'varchar(16)', (c) => c.notNull())
      .addColumn('created_at', timestamp, (c) => c.notNull())
      .addPrimaryKeyConstraint('mirror_group_message_mentions_pk', ['message_id', 'mentioned_user_id'])
      .execute();
    await db.schema
      .createIndex('mirror_group_message_mentions_user')
      .on('mirror_group_message_mentions')
      .columns(['group_id', 'mentioned_user_id'])
      .execute();

    await createTable(db, 'mirror_group_pinned_messages')
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('message_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('pinned_by', 'integer', (c) => c.notNull())
      // A pin note is text people write, like a message: sealed, bound to the group and the message.
      .addColumn('pin_note_sealed', binary)
      .addColumn('pinned_at', timestamp, (c) => c.notNull())
      .addColumn('pin_seq', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('mirror_group_pinned_messages_pk', ['group_id', 'message_id'])
      .execute();
    await db.schema
      .createIndex('mirror_group_pinned_messages_order')
      .on('mirror_group_pinned_messages')
      .columns(['group_id', 'pin_seq'])
      .execute();

    await createTable(db, 'mirror_group_chat_presence')
      .addColumn('user_id', 'integer', (c) => c.primaryKey())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('last_seen', timestamp, (c) => c.notNull())
      .addColumn('updated_at', timestamp, (c) => c.notNull())
      .execute();

    await createTable(db, 'mirror_group_message_delivery_queue')
      .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('message_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('user_id', 'integer', (c) => c.notNull())
      .addColumn('status', 'varchar(16)', (c) => c.notNull())
      .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('next_attempt_at', timestamp)
      .addColumn('last_error', 'varchar(1024)')
      .addColumn('created_at', timestamp, (c) => c.notNull())
      .addColumn('updated_at', timestamp, (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('mirror_group_message_delivery_queue_due')
      .on('mirror_group_message_delivery_queue')
      .columns(['status', 'next_attempt_at'])
      .execute();
  },
};

/** How far the projections that count (reads, mentions) have got in each stream: see stream-revisions.ts. */
const streamRevisions: Migration = {
  async up(db) {
    await createTable(db, 'mirror_projection_stream_revisions')
      .addColumn('projection', 'varchar(64)', (c) => c.notNull())
      .addColumn('stream_id', 'varchar(128)', (c) => c.notNull())
      .addColumn('revision', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('mirror_projection_stream_revisions_pk', ['projection', 'stream_id'])
      .execute();
  },
};

/**
 * The blind search index (projections/search.ts): keyed tokens only, never words. InnoDB FULLTEXT on MySQL/MariaDB,
 * a GIN-indexed tsvector on PostgreSQL/PGlite; the other columns serve the query's filters.
 */
const search: Migration = {
  async up(db) {
    const flavor = sqlFlavor(db);
    await createTable(db, 'mirror_group_message_search')
      .addColumn('message_id', 'varchar(36)', (c) => c.primaryKey())
      .addColumn('group_id', 'varchar(36)', (c) => c.notNull())
      .addColumn('seq', 'bigint', (c) => c.notNull())
      .addColumn('bucket', 'integer', (c) => c.notNull())
      .addColumn('sender_user_id', 'integer', (c) => c.notNull())
      .addColumn('thread_root_id', 'varchar(36)')
      .addColumn('has_link', 'boolean', (c) => c.notNull())
      .addColumn('created_at', columnTypes(flavor).timestamp, (c) => c.notNull())
      .addColumn('tokens', flavor === 'mysql' ? 'text' : sql`tsvector`, (c) => c.notNull())
      .execute();
    await db.schema.createIndex('mirror_group_message_search_seq').on('mirror_group_message_search').columns(['group_id', 'seq']).execute();
    await db.schema
      .createIndex('mirror_group_message_search_sender')
      .on('mirror_group_message_search')
      .columns(['group_id', 'sender_user_id', 'seq'])
      .execute();
    // sql.table, so that a shadow copy of the tables (shadow-tables.ts) gets its index on its own table.
    const table = sql.table('mirror_group_message_search');
    if (flavor === 'mysql') await sql`alter table ${table} add fulltext index mirror_group_message_search_tokens (tokens)`.execute(db);
    else await sql`create index mirror_group_message_search_tokens on ${table} using gin (tokens)`.execute(db);
  },
};

/** A member's undelivered rows, read when they connect (api/delivery.ts). */
const delivery: Migration = {
  async up(db) {
    await db.schema
      .createIndex('mirror_group_message_delivery_queue_user')
      .on('mirror_group_message_delivery_queue')
      .columns(['user_id', 'status', 'created_at'])
      .execute();
  },
};

/**
 * InnoDB stores a table's rows in primary-key order. Keyed by message id, a group's newest search rows lay scattered
 * among every other group's (ids are time-ordered); keyed by (group, place), they sit together, so reading a group's
 * newest rows in order (queries/search.ts) touches a few pages. PostgreSQL keeps rows in no key's order: nothing to do.
 */
const searchByPlace: Migration = {
  async up(db) {
    if (sqlFlavor(db) !== 'mysql') return;
    await sql`alter table ${sql.table('mirror_group_message_search')}
      drop primary key,
      add primary key (group_id, seq),
      add unique key mirror_group_message_search_message (message_id),
      drop index mirror_group_message_search_seq`.execute(db);
  },
};

/**
 * The blind index's tokens changed form (longer, and one term per word: queries/search.ts would find nothing in rows
 * written the old way), so the index is emptied and its projection's checkpoint dropped: the projector indexes the
 * whole log again from the start, before it moves on with the other read models, which skip what they hold already.
 */
const searchTokensV2: Migration = {
  async up(db) {
    await db.deleteFrom('mirror_group_message_search').execute();
    await db.deleteFrom('mirror_projection_checkpoints').where('projection', '=', 'search').execute();
    await db.deleteFrom('mirror_projection_stream_revisions').where('projection', '=', 'search').execute();
  },
};

/** The delivery queue's rows by age, for forgetting the old ones (dropDeliveriesBefore in projections/delivery.ts). */
const deliveryAge: Migration = {
  async up(db) {
    await db.schema
      .createIndex('mirror_group_message_delivery_queue_age')
      .on('mirror_group_message_delivery_queue')
      .column('created_at')
      .execute();
  },
};

const migrations: Record<string, Migration> = {
  '0001_chat_core': chatCore,
  '0002_chat_features': chatFeatures,
  '0003_reads': streamRevisions,
  '0004_search': search,
  '0005_delivery': delivery,
  '0006_search_by_place': searchByPlace,
  '0007_search_tokens_v2': searchTokensV2,
  '0008_delivery_age': deliveryAge,
};

/** Where the Migrator records what it has run on the live tables; a shadow copy of them keeps its own record (shadow-tables.ts). */
export const liveMigrationTables = { migrationTableName: 'mirror_read_migrations', migrationLockTableName: 'mirror_read_migrations_lock' };

/** Brings the read database up to date; safe to run from several processes at once (the Migrator locks). */
export async function migrateReadModels(
  db: Kysely<any>,
  record: Pick<MigratorProps, 'migrationTableName' | 'migrationLockTableName' | 'migrationTableSchema'> = liveMigrationTables,
): Promise<void> {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, ...record });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error;
}
