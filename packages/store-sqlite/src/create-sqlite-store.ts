import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InvalidArgumentError, StoreError } from '@userplug/core';
import {
  createStoreSkeleton,
  type ItemRow,
  type ListedItemRow,
  resolveQuantization,
  type SkeletonStore,
  type StoredVersion,
  type UpsertDecision,
  type UserEncoder,
  type VectorQuantization,
  type VectorRow,
} from '@userplug/store-kit';
import Database from 'better-sqlite3';
import { sqliteApplicationId, sqliteMigrations } from './sqlite-migrations.js';
import { toSqliteStoreError } from './sqlite-store-error.js';

/** The file the CLI and examples use when no path is given. */
export const defaultSqliteStorePath = '.userplug/userplug.db';

/** Settings of {@link createSqliteStore}. Every field has a default. */
export interface SqliteStoreSettings {
  /**
   * Database file; its folder is created. `:memory:` keeps everything in this process.
   * Default: environment variable `USERPLUG_STORE`, else `.userplug/userplug.db` (relative to the working directory).
   */
  path?: string;
  /**
   * How new vectors are written: `float32` (exact, 4 bytes a number) or `int8` (1 byte a number plus 4 bytes
   * a piece, about 4× smaller; its measured recall cost is in the README). Vectors already written keep their
   * format, so the setting can change between runs. Default `float32`.
   */
  quantization?: VectorQuantization;
  /** Milliseconds to wait for another process's write lock before failing. Default 5,000. */
  busyTimeoutMs?: number;
  /**
   * `normal`: a process crash never loses a committed write, a power cut may lose the last ones; the file is
   * never corrupted either way (SQLite's WAL default). `full`: also durable across power cuts, slower. Default `normal`.
   */
  synchronous?: 'normal' | 'full';
  /**
   * Overwrite erased rows with zeros (`PRAGMA secure_delete`) and checkpoint after `forget`, so a forgotten
   * user's text leaves no readable trace in the file. Default true.
   */
  secureDelete?: boolean;
  /** Fail, instead of creating a new file, when the file does not exist. Default false. */
  mustExist?: boolean;
}

/** What a SQLite store holds for one user. */
export interface SqliteUserSummary {
  /** Number of items. */
  items: number;
  /** The encoder all the user's vectors come from. */
  encoderId: string;
  /** Length of those vectors. */
  dimension: number;
  /** The user's current revision. */
  revision: number;
}

/** A userplug store in one SQLite file. */
export interface SqliteStore extends SkeletonStore<'sqlite'> {
  /** Absolute path of the database file (or `:memory:`). */
  readonly path: string;
  /** Format of newly written vectors. */
  readonly quantization: VectorQuantization;
  /** The user's encoder, item count and revision; undefined when the user has no items. */
  describeUser(userId: string): Promise<SqliteUserSummary | undefined>;
  /** Runs `PRAGMA integrity_check` over the whole file; returns the problems found (empty when sound). */
  checkIntegrity(): Promise<string[]>;
}

interface UserRow extends UserEncoder {
  revision: number;
}

function resolvePath(settings: SqliteStoreSettings): string {
  const path = settings.path ?? process.env.USERPLUG_STORE ?? defaultSqliteStorePath;
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('path', 'path must be a file path, or ":memory:".');
  }
  return path === ':memory:' ? path : resolve(path);
}

function openDatabase(path: string, settings: SqliteStoreSettings, busyTimeoutMs: number): Database.Database {
  if (path !== ':memory:') {
    if (settings.mustExist && !existsSync(path)) {
      throw new StoreError(
        `No userplug store at ${path}. Ingest a history first (\`userplug ingest --user ID FILE\`), or pass the right path.`,
      );
    }
    mkdirSync(dirname(path), { recursive: true });
  }
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    // 8 KiB pages hold three 512-d float32 rows instead of one: files about 30% smaller, reads faster. New files only.
    db.pragma('page_size = 8192');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${settings.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma(`secure_delete = ${settings.secureDelete === false ? 'OFF' : 'ON'}`);
    migrate(db, path);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

function migrate(db: Database.Database, path: string): void {
  const check = (): number => {
    const version = db.pragma('user_version', { simple: true }) as number;
    const applicationId = db.pragma('application_id', { simple: true }) as number;
    const tables = db
      .prepare("SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
      .pluck()
      .get() as number;
    if (applicationId !== sqliteApplicationId && (applicationId !== 0 || tables > 0)) {
      throw new StoreError(
        `${path} is a SQLite database of another application, not a userplug store. Pass another path (the default is .userplug/userplug.db).`,
      );
    }
    if (version > sqliteMigrations.length) {
      throw new StoreError(
        `The SQLite store ${path} has schema version ${version}, written by a newer @userplug/store-sqlite; this version reads up to ${sqliteMigrations.length}. ` +
          'Upgrade @userplug/store-sqlite (and the userplug CLI), or point to another file.',
      );
    }
    return version;
  };
  if (check() === sqliteMigrations.length) return;
  // IMMEDIATE takes the write lock first, so two processes opening a new file migrate it once.
  db.transaction(() => {
    const version = check();
    for (let next = version; next < sqliteMigrations.length; next++) {
      db.exec(sqliteMigrations[next]!);
      db.pragma(`user_version = ${next + 1}`);
    }
    db.pragma(`application_id = ${sqliteApplicationId}`);
  }).immediate();
}

/**
 * Opens (creating and migrating when needed) a userplug store in one SQLite file: WAL journal, every
 * upsert one transaction, vectors as BLOBs with equal texts of a user stored once, a persisted cache that a
 * change to the user's items invalidates, and `forget` erasing the user from every table. Opening a damaged
 * file, a foreign database or a newer schema throws a `StoreError` that says what to do.
 */
/**
 * Opens (creating and migrating when needed) a userplug store in one SQLite file: WAL journal, every
 * upsert one transaction, vectors as BLOBs with equal texts of a user stored once, a persisted cache that a
 * change to the user's items invalidates, and `forget` erasing the user from every table. Opening a damaged
 * file, a foreign database or a newer schema throws a `StoreError` that says what to do.
 */
export function createSqliteStore(settings: SqliteStoreSettings = {}): SqliteStore {
  const path = resolvePath(settings);
  const quantization = resolveQuantization(settings.quantization);
  const busyTimeoutMs = settings.busyTimeoutMs ?? 5_000;
  if (!Number.isInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new InvalidArgumentError(
      'busyTimeoutMs',
      `busyTimeoutMs must be a whole number of milliseconds ≥ 0, got ${busyTimeoutMs}.`,
    );
  }
  const secureDelete = settings.secureDelete !== false;
  let db: Database.Database;
  try {
    db = openDatabase(path, settings, busyTimeoutMs);
  } catch (error) {
    throw toSqliteStoreError(error, { path, action: 'open the store', busyTimeoutMs });
  }

  const statements = {
    getUser: db.prepare<[string], UserRow>(
      'SELECT encoder_id AS encoderId, dimension, revision FROM users WHERE user_id = ?',
    ),
    nextRevision: db
      .prepare<[], number>("UPDATE store_meta SET value = value + 1 WHERE key = 'revision' RETURNING value")
      .pluck(),
    putUser: db.prepare<[string, string, number, number]>(
      `INSERT INTO users (user_id, encoder_id, dimension, revision) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id) DO UPDATE SET encoder_id = excluded.encoder_id, dimension = excluded.dimension, revision = excluded.revision`,
    ),
    deleteUser: db.prepare<[string]>('DELETE FROM users WHERE user_id = ?'),
    getVersion: db.prepare<[string, string], StoredVersion>(
      'SELECT item_hash AS itemHash, text_hash AS textHash, encoder_id AS encoderId FROM items WHERE user_id = ? AND item_id = ?',
    ),
    getItemHash: db
      .prepare<[string, string], string>('SELECT item_hash FROM items WHERE user_id = ? AND item_id = ?')
      .pluck(),
    putItem: db.prepare<[ItemRow & { userId: string }]>(
      `INSERT INTO items (user_id, item_id, item_hash, text_hash, encoder_id, text, kind, timestamp, rating, label, weight,
         speaker, self, conversation_id, session_id, meta, token_count)
       VALUES (@userId, @itemId, @itemHash, @textHash, @encoderId, @text, @kind, @timestamp, @rating, @label, @weight,
         @speaker, @self, @conversationId, @sessionId, @meta, @tokenCount)
       ON CONFLICT (user_id, item_id) DO UPDATE SET item_hash = excluded.item_hash, text_hash = excluded.text_hash,
         encoder_id = excluded.encoder_id, text = excluded.text, kind = excluded.kind, timestamp = excluded.timestamp,
         rating = excluded.rating, label = excluded.label, weight = excluded.weight, speaker = excluded.speaker,
         self = excluded.self, conversation_id = excluded.conversation_id, session_id = excluded.session_id,
         meta = excluded.meta, token_count = excluded.token_count`,
    ),
    hasVector: db
      .prepare<[string, string, string], number>(
        'SELECT 1 FROM vectors WHERE user_id = ? AND encoder_id = ? AND text_hash = ?',
      )
      .pluck(),
    putVector: db.prepare<[string, string, string, number, number, Uint8Array]>(
      `INSERT INTO vectors (user_id, encoder_id, text_hash, piece_count, format, data) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, encoder_id, text_hash) DO NOTHING`,
    ),
    deleteOrphanVector: db.prepare<[{ userId: string; encoderId: string; textHash: string }]>(
      `DELETE FROM vectors WHERE user_id = @userId AND encoder_id = @encoderId AND text_hash = @textHash
       AND NOT EXISTS (SELECT 1 FROM items WHERE user_id = @userId AND encoder_id = @encoderId AND text_hash = @textHash)`,
    ),
    // One statement: one consistent snapshot of the user's rows.
    listItems: db.prepare<[string], ListedItemRow>(
      `SELECT i.item_id AS itemId, i.item_hash AS itemHash, i.text_hash AS textHash, i.encoder_id AS encoderId, i.text,
         i.kind, i.timestamp, i.rating, i.label, i.weight, i.speaker, i.self, i.conversation_id AS conversationId,
         i.session_id AS sessionId, i.meta, i.token_count AS tokenCount, u.dimension,
         v.piece_count AS pieceCount, v.format, v.data
       FROM items i JOIN users u ON u.user_id = i.user_id LEFT JOIN vectors v
         ON v.user_id = i.user_id AND v.encoder_id = i.encoder_id AND v.text_hash = i.text_hash
       WHERE i.user_id = ? ORDER BY i.id`,
    ),
    countItems: db.prepare<[string], number>('SELECT count(*) FROM items WHERE user_id = ?').pluck(),
    getVector: db.prepare<[string, string, string], VectorRow>(
      'SELECT piece_count AS pieceCount, format, data FROM vectors WHERE user_id = ? AND encoder_id = ? AND text_hash = ?',
    ),
    deleteItem: db.prepare<[string, string], { textHash: string; encoderId: string }>(
      'DELETE FROM items WHERE user_id = ? AND item_id = ? RETURNING text_hash AS textHash, encoder_id AS encoderId',
    ),
    listUserIds: db.prepare<[], string>('SELECT user_id FROM users ORDER BY user_id').pluck(),
    getCached: db
      .prepare<[string, string], Uint8Array>(
        `SELECT c.value FROM user_cache c JOIN users u ON u.user_id = c.user_id AND u.revision = c.revision
         WHERE c.user_id = ? AND c.key = ?`,
      )
      .pluck(),
    putCached: db.prepare<[string, string, number, Uint8Array]>(
      `INSERT INTO user_cache (user_id, key, revision, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, key) DO UPDATE SET revision = excluded.revision, value = excluded.value`,
    ),
    clearCached: db.prepare<[string]>('DELETE FROM user_cache WHERE user_id = ?'),
    getState: db
      .prepare<[string, string], Uint8Array>('SELECT value FROM user_state WHERE user_id = ? AND key = ?')
      .pluck(),
    putState: db.prepare<[string, string, Uint8Array, number]>(
      `INSERT INTO user_state (user_id, key, value, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
    ),
    deleteState: db.prepare<[string, string]>('DELETE FROM user_state WHERE user_id = ? AND key = ?'),
  };

  // Every table with a user_id column, so forget() also reaches tables that later migrations add.
  const userTables = (
    db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]
  )
    .filter((table) =>
      (db.pragma(`table_info("${table}")`) as { name: string }[]).some((column) => column.name === 'user_id'),
    )
    .sort();
  const forgetStatements = userTables.map((table) => ({
    table,
    erase: db.prepare<[string]>(`DELETE FROM "${table}" WHERE user_id = ?`),
    count: db.prepare<[string], number>(`SELECT count(*) FROM "${table}" WHERE user_id = ?`).pluck(),
  }));

  const deleteOrphanVectors = (userId: string, texts: Iterable<{ encoderId: string; textHash: string }>) => {
    for (const { encoderId, textHash } of texts)
      statements.deleteOrphanVector.run({ userId, encoderId, textHash });
  };
  const changeRevision = (userId: string, encoder: UserEncoder) => {
    statements.putUser.run(userId, encoder.encoderId, encoder.dimension, statements.nextRevision.get()!);
    statements.clearCached.run(userId);
  };

  // better-sqlite3 transactions run synchronously: `.immediate` takes the write lock before the first read.
  const upsertTransaction = db.transaction(
    (userId: string, itemIds: readonly string[], decide: UpsertDecision) => {
      const stored = new Map<string, StoredVersion>();
      for (const itemId of itemIds) {
        const version = statements.getVersion.get(userId, itemId);
        if (version) stored.set(itemId, version);
      }
      const plan = decide(statements.getUser.get(userId), stored);
      for (const row of plan.rows) {
        statements.putItem.run({ userId, ...row });
        if (statements.hasVector.get(userId, row.encoderId, row.textHash) === undefined) {
          const vectors = plan.vectorRow(row.textHash);
          statements.putVector.run(
            userId,
            row.encoderId,
            row.textHash,
            vectors.pieceCount,
            vectors.format,
            vectors.data,
          );
        }
      }
      deleteOrphanVectors(userId, plan.replacedTexts);
      if (plan.rows.length > 0) changeRevision(userId, plan.encoder);
      return plan.counts;
    },
  );

  const deleteTransaction = db.transaction((userId: string, itemIds: readonly string[]): number => {
    const removed = itemIds.flatMap((itemId) => statements.deleteItem.get(userId, itemId) ?? []);
    if (removed.length === 0) return 0;
    deleteOrphanVectors(userId, removed);
    const user = statements.getUser.get(userId)!;
    if (statements.countItems.get(userId) === 0) statements.deleteUser.run(userId);
    else changeRevision(userId, user);
    statements.clearCached.run(userId);
    return removed.length;
  });

  const forgetTransaction = db.transaction((userId: string): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const { table, erase } of forgetStatements) counts[table] = erase.run(userId).changes;
    // Revisions are never reused, so a value cached before the forget can never match again.
    statements.nextRevision.get();
    return counts;
  });

  const setCachedTransaction = db.transaction(
    (userId: string, key: string, revision: number, value: Uint8Array): boolean => {
      const user = statements.getUser.get(userId);
      if (!user || user.revision !== revision) return false;
      statements.putCached.run(userId, key, revision, Buffer.from(value));
      return true;
    },
  );

  const { store, call, requireUserId } = createStoreSkeleton({
    id: 'sqlite',
    name: `SQLite store ${path}`,
    location: path,
    factory: 'createSqliteStore',
    textHoldsNul: true,
    quantization,
    upsertItems: (userId, itemIds, decide) => upsertTransaction.immediate(userId, itemIds, decide),
    listItems: (userId) => statements.listItems.all(userId),
    getItemHashes: (userId, itemIds) =>
      itemIds.flatMap((itemId): [string, string][] => {
        const hash = statements.getItemHash.get(userId, itemId);
        return hash === undefined ? [] : [[itemId, hash]];
      }),
    findVectors(userId, encoderId, textHashes) {
      const user = statements.getUser.get(userId);
      if (!user || user.encoderId !== encoderId) return [];
      return textHashes.flatMap((textHash) => {
        const row = statements.getVector.get(userId, encoderId, textHash);
        return row ? [{ ...row, textHash, dimension: user.dimension }] : [];
      });
    },
    deleteItems: (userId, itemIds) => deleteTransaction.immediate(userId, itemIds),
    countItems: (userId) => statements.countItems.get(userId)!,
    getRevision: (userId) => statements.getUser.get(userId)?.revision ?? 0,
    eraseUser(userId) {
      const counts = forgetTransaction.immediate(userId);
      if (secureDelete && path !== ':memory:') {
        try {
          // Moves the zeroed pages into the main file and empties the WAL, which still held the old pages.
          db.pragma('wal_checkpoint(TRUNCATE)');
        } catch {
          // Best effort: a busy reader only delays the checkpoint; the next one completes it.
        }
      }
      return counts;
    },
    countUserRows: (userId) => forgetStatements.reduce((sum, { count }) => sum + count.get(userId)!, 0),
    listUserIds: () => statements.listUserIds.all(),
    getCached: (userId, key) => statements.getCached.get(userId, key),
    setCached: (userId, key, revision, value) => setCachedTransaction.immediate(userId, key, revision, value),
    getUserState: (userId, key) => statements.getState.get(userId, key),
    setUserState(userId, key, value) {
      if (value === undefined) statements.deleteState.run(userId, key);
      else statements.putState.run(userId, key, Buffer.from(value), Date.now());
    },
    close() {
      db.close();
    },
    toStoreError: (error, action, userId) =>
      toSqliteStoreError(error, { path, action, busyTimeoutMs, ...(userId === undefined ? {} : { userId }) }),
  });

  return {
    ...store,
    id: 'sqlite',
    path,
    quantization,
    async describeUser(userId) {
      requireUserId(userId);
      return call('describe the user', userId, () => {
        const user = statements.getUser.get(userId);
        return user ? { ...user, items: statements.countItems.get(userId)! } : undefined;
      });
    },
    async checkIntegrity() {
      return call('check integrity', undefined, () => {
        try {
          const rows = db.pragma('integrity_check') as { integrity_check: string }[];
          const problems = rows.map((row) => row.integrity_check);
          return problems.length === 1 && problems[0] === 'ok' ? [] : problems;
        } catch (error) {
          // Damage bad enough to stop the check is itself the finding.
          const code = (error as { code?: unknown }).code;
          if (
            typeof code === 'string' &&
            (code.startsWith('SQLITE_CORRUPT') || code.startsWith('SQLITE_NOTADB'))
          ) {
            return [`${code}: ${(error as Error).message}`];
          }
          throw error;
        }
      });
    },
  };
}
