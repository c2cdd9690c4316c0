import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import {
  type ForgetReport,
  InvalidArgumentError,
  type StoredItem,
  StoreError,
  type UpsertCounts,
  type UserplugStore,
} from '@userplug/core';
import {
  checkItemBatch,
  decodeVectors,
  encodeVectors,
  mixedEncoderError,
  requireWellFormed,
  type UserEncoder,
  type VectorQuantization,
  vectorFormatCode,
} from '@userplug/core/internal';
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
export interface SqliteStore extends UserplugStore {
  readonly id: 'sqlite';
  /** Absolute path of the database file (or `:memory:`). */
  readonly path: string;
  /** Format of newly written vectors. */
  readonly quantization: VectorQuantization;
  getCached(userId: string, key: string): Promise<Uint8Array | undefined>;
  setCached(userId: string, key: string, revision: number, value: Uint8Array): Promise<boolean>;
  getUserState(userId: string, key: string): Promise<Uint8Array | undefined>;
  setUserState(userId: string, key: string, value: Uint8Array | undefined): Promise<void>;
  /** The user's encoder, item count and revision; undefined when the user has no items. */
  describeUser(userId: string): Promise<SqliteUserSummary | undefined>;
  /** Runs `PRAGMA integrity_check` over the whole file; returns the problems found (empty when sound). */
  checkIntegrity(): Promise<string[]>;
}

interface UserRow {
  encoderId: string;
  dimension: number;
  revision: number;
}

interface ItemRow {
  itemId: string;
  itemHash: string;
  textHash: string;
  encoderId: string;
  text: string;
  kind: string | null;
  timestamp: number | null;
  rating: number | null;
  label: string | null;
  weight: number | null;
  meta: string | null;
  tokenCount: number;
}

interface VectorRow {
  pieceCount: number;
  format: number;
  data: Buffer;
}

// Names of ForgetReport.otherDeleted, by table; the memory store uses the same names.
const forgetReportNames: Record<string, string> = { user_cache: 'cachedValues', user_state: 'userState' };

function requireUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new InvalidArgumentError('userId', 'userId must be a non-empty string. Pass the id of the user.');
  }
  requireWellFormed('userId', userId);
}

function requireKey(key: unknown): asserts key is string {
  if (typeof key !== 'string' || key.length === 0) {
    throw new InvalidArgumentError(
      'key',
      'key must be a non-empty string, such as "persona" or "projector".',
    );
  }
  requireWellFormed('key', key);
}

function resolvePath(settings: SqliteStoreSettings): string {
  const path = settings.path ?? process.env.USERPLUG_STORE ?? defaultSqliteStorePath;
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('path', 'path must be a file path, or ":memory:".');
  }
  return path === ':memory:' ? path : resolve(path);
}

function toItem(
  row: ItemRow,
  stored: VectorRow | undefined,
  dimension: number,
  userId: string,
  path: string,
): StoredItem {
  const vectors = stored && decodeVectors(stored.data, stored.pieceCount, dimension, stored.format);
  if (!vectors) {
    throw new StoreError(
      `The vectors of item "${row.itemId}" of user "${userId}" in ${path} are missing or have the wrong length for dimension ${dimension}. ` +
        `The file is damaged: ingest that item again, or forget the user and ingest the history again.`,
      { userId },
    );
  }
  // Plain assignments: conditional spreads cost a temporary object per field, 10k items per cold read.
  const item: StoredItem = {
    id: row.itemId,
    text: row.text,
    itemHash: row.itemHash,
    textHash: row.textHash,
    encoderId: row.encoderId,
    vectors,
    pieceCount: stored!.pieceCount,
    tokenCount: row.tokenCount,
  };
  if (row.kind !== null) item.kind = row.kind;
  if (row.timestamp !== null) item.timestamp = row.timestamp;
  if (row.rating !== null) item.rating = row.rating;
  if (row.label !== null) item.label = row.label;
  if (row.weight !== null) item.weight = row.weight;
  if (row.meta !== null) item.meta = JSON.parse(row.meta) as Record<string, unknown>;
  return item;
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
export function createSqliteStore(settings: SqliteStoreSettings = {}): SqliteStore {
  const path = resolvePath(settings);
  const quantization = settings.quantization ?? 'float32';
  if (quantization !== 'float32' && quantization !== 'int8') {
    throw new InvalidArgumentError(
      'quantization',
      `quantization must be "float32" or "int8", got "${String(quantization)}".`,
    );
  }
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
  const formatCode = vectorFormatCode[quantization];

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
    getItemHash: db.prepare<[string, string], { itemHash: string; textHash: string; encoderId: string }>(
      'SELECT item_hash AS itemHash, text_hash AS textHash, encoder_id AS encoderId FROM items WHERE user_id = ? AND item_id = ?',
    ),
    putItem: db.prepare(
      `INSERT INTO items (user_id, item_id, item_hash, text_hash, encoder_id, text, kind, timestamp, rating, label, weight, meta, token_count)
       VALUES (@userId, @itemId, @itemHash, @textHash, @encoderId, @text, @kind, @timestamp, @rating, @label, @weight, @meta, @tokenCount)
       ON CONFLICT (user_id, item_id) DO UPDATE SET item_hash = excluded.item_hash, text_hash = excluded.text_hash,
         encoder_id = excluded.encoder_id, text = excluded.text, kind = excluded.kind, timestamp = excluded.timestamp,
         rating = excluded.rating, label = excluded.label, weight = excluded.weight, meta = excluded.meta,
         token_count = excluded.token_count`,
    ),
    hasVector: db
      .prepare<[string, string, string], number>(
        'SELECT 1 FROM vectors WHERE user_id = ? AND encoder_id = ? AND text_hash = ?',
      )
      .pluck(),
    putVector: db.prepare<[string, string, string, number, number, Buffer]>(
      `INSERT INTO vectors (user_id, encoder_id, text_hash, piece_count, format, data) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, encoder_id, text_hash) DO NOTHING`,
    ),
    deleteOrphanVector: db.prepare<[{ userId: string; encoderId: string; textHash: string }]>(
      `DELETE FROM vectors WHERE user_id = @userId AND encoder_id = @encoderId AND text_hash = @textHash
       AND NOT EXISTS (SELECT 1 FROM items WHERE user_id = @userId AND encoder_id = @encoderId AND text_hash = @textHash)`,
    ),
    listItems: db.prepare<[string], ItemRow & Partial<VectorRow>>(
      `SELECT i.item_id AS itemId, i.item_hash AS itemHash, i.text_hash AS textHash, i.encoder_id AS encoderId, i.text,
         i.kind, i.timestamp, i.rating, i.label, i.weight, i.meta, i.token_count AS tokenCount,
         v.piece_count AS pieceCount, v.format, v.data
       FROM items i LEFT JOIN vectors v
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
      .prepare<[string, string], Buffer>(
        `SELECT c.value FROM user_cache c JOIN users u ON u.user_id = c.user_id AND u.revision = c.revision
         WHERE c.user_id = ? AND c.key = ?`,
      )
      .pluck(),
    putCached: db.prepare<[string, string, number, Buffer]>(
      `INSERT INTO user_cache (user_id, key, revision, value) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, key) DO UPDATE SET revision = excluded.revision, value = excluded.value`,
    ),
    clearCached: db.prepare<[string]>('DELETE FROM user_cache WHERE user_id = ?'),
    getState: db
      .prepare<[string, string], Buffer>('SELECT value FROM user_state WHERE user_id = ? AND key = ?')
      .pluck(),
    putState: db.prepare<[string, string, Buffer, number]>(
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

  let closed = false;
  function guard<T>(action: string, userId: string | undefined, body: () => T): T {
    if (closed) {
      throw new StoreError(
        `The SQLite store ${path} is closed; cannot ${action}. Create a new store with createSqliteStore().`,
      );
    }
    try {
      return body();
    } catch (error) {
      throw toSqliteStoreError(error, {
        path,
        action,
        busyTimeoutMs,
        ...(userId === undefined ? {} : { userId }),
      });
    }
  }

  const upsertTransaction = db.transaction(
    (userId: string, items: readonly StoredItem[], encoder: UserEncoder): UpsertCounts => {
      const user = statements.getUser.get(userId);
      if (user && (user.encoderId !== encoder.encoderId || user.dimension !== encoder.dimension)) {
        throw mixedEncoderError(userId, { id: items[0]!.id, ...encoder }, user, path);
      }
      let inserted = 0;
      let updated = 0;
      const replacedTexts = new Map<string, [string, string]>();
      for (const item of items) {
        const existing = statements.getItemHash.get(userId, item.id);
        if (existing?.itemHash === item.itemHash) continue;
        if (existing) {
          updated++;
          replacedTexts.set(`${existing.encoderId}\u0000${existing.textHash}`, [
            existing.encoderId,
            existing.textHash,
          ]);
        } else {
          inserted++;
        }
        statements.putItem.run({
          userId,
          itemId: item.id,
          itemHash: item.itemHash,
          textHash: item.textHash,
          encoderId: item.encoderId,
          text: item.text,
          kind: item.kind ?? null,
          timestamp: item.timestamp ?? null,
          rating: item.rating ?? null,
          label: item.label ?? null,
          weight: item.weight ?? null,
          meta: item.meta === undefined ? null : JSON.stringify(item.meta),
          tokenCount: item.tokenCount,
        });
        if (statements.hasVector.get(userId, item.encoderId, item.textHash) === undefined) {
          statements.putVector.run(
            userId,
            item.encoderId,
            item.textHash,
            item.pieceCount,
            formatCode,
            encodeVectors(item.vectors, item.pieceCount, quantization),
          );
        }
      }
      for (const [encoderId, textHash] of replacedTexts.values()) {
        statements.deleteOrphanVector.run({ userId, encoderId, textHash });
      }
      if (inserted + updated > 0) {
        statements.putUser.run(userId, encoder.encoderId, encoder.dimension, statements.nextRevision.get()!);
        statements.clearCached.run(userId);
      }
      return { inserted, updated };
    },
  );

  const deleteTransaction = db.transaction((userId: string, itemIds: readonly string[]): number => {
    let deleted = 0;
    const replacedTexts = new Map<string, [string, string]>();
    for (const itemId of new Set(itemIds)) {
      const row = statements.deleteItem.get(userId, itemId);
      if (!row) continue;
      deleted++;
      replacedTexts.set(`${row.encoderId}\u0000${row.textHash}`, [row.encoderId, row.textHash]);
    }
    for (const [encoderId, textHash] of replacedTexts.values()) {
      statements.deleteOrphanVector.run({ userId, encoderId, textHash });
    }
    if (deleted > 0) {
      const user = statements.getUser.get(userId)!;
      if (statements.countItems.get(userId) === 0) statements.deleteUser.run(userId);
      else statements.putUser.run(userId, user.encoderId, user.dimension, statements.nextRevision.get()!);
      statements.clearCached.run(userId);
    }
    return deleted;
  });

  const forgetTransaction = db.transaction((userId: string): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const { table, erase } of forgetStatements) counts[table] = erase.run(userId).changes;
    statements.nextRevision.get();
    return counts;
  });

  const listTransaction = db.transaction((userId: string): StoredItem[] => {
    const user = statements.getUser.get(userId);
    if (!user) return [];
    return statements.listItems.all(userId).map((row) => {
      // A LEFT JOIN gives nulls for a missing vector row: reported as damage by toItem.
      const stored = row.data == null ? undefined : (row as VectorRow);
      return toItem(row, stored, user.dimension, userId, path);
    });
  });

  const setCachedTransaction = db.transaction(
    (userId: string, key: string, revision: number, value: Uint8Array): boolean => {
      const user = statements.getUser.get(userId);
      if (!user || user.revision !== revision) return false;
      statements.putCached.run(userId, key, revision, Buffer.from(value));
      return true;
    },
  );

  return {
    id: 'sqlite',
    path,
    quantization,
    async upsertItems(userId, items) {
      requireUserId(userId);
      if (items.length === 0) return { inserted: 0, updated: 0 };
      const encoder = checkItemBatch(userId, items);
      return guard('store items', userId, () => upsertTransaction.immediate(userId, items, encoder));
    },
    async listItems(userId) {
      requireUserId(userId);
      return guard('list items', userId, () => listTransaction(userId));
    },
    async getItemHashes(userId, itemIds) {
      requireUserId(userId);
      return guard('read item hashes', userId, () => {
        const hashes = new Map<string, string>();
        for (const itemId of itemIds) {
          const row = statements.getItemHash.get(userId, itemId);
          if (row) hashes.set(itemId, row.itemHash);
        }
        return hashes;
      });
    },
    async findVectors(userId, encoderId, textHashes) {
      requireUserId(userId);
      return guard('read vectors', userId, () => {
        const found = new Map<string, { vectors: Float32Array; pieceCount: number }>();
        const user = statements.getUser.get(userId);
        if (!user || user.encoderId !== encoderId) return found;
        for (const textHash of new Set(textHashes)) {
          const row = statements.getVector.get(userId, encoderId, textHash);
          const vectors = row && decodeVectors(row.data, row.pieceCount, user.dimension, row.format);
          if (row && vectors) found.set(textHash, { vectors, pieceCount: row.pieceCount });
        }
        return found;
      });
    },
    async deleteItems(userId, itemIds) {
      requireUserId(userId);
      if (itemIds.length === 0) return 0;
      return guard('delete items', userId, () => deleteTransaction.immediate(userId, itemIds));
    },
    async countItems(userId) {
      requireUserId(userId);
      return guard('count items', userId, () => statements.countItems.get(userId)!);
    },
    async getRevision(userId) {
      requireUserId(userId);
      return guard('read the revision', userId, () => statements.getUser.get(userId)?.revision ?? 0);
    },
    async forget(userId): Promise<ForgetReport> {
      requireUserId(userId);
      const counts = guard('forget the user', userId, () => forgetTransaction.immediate(userId));
      // Read again after the commit: the report's `verified` is a fact about the file, not about our counts.
      const left = guard('verify the erasure', userId, () =>
        forgetStatements.reduce((sum, { count }) => sum + count.get(userId)!, 0),
      );
      if (secureDelete && path !== ':memory:') {
        try {
          // Moves the zeroed pages into the main file and empties the WAL, which still held the old pages.
          db.pragma('wal_checkpoint(TRUNCATE)');
        } catch {
          // Best effort: a busy reader only delays the checkpoint; the next one completes it.
        }
      }
      const otherDeleted: Record<string, number> = {};
      for (const [table, count] of Object.entries(counts)) {
        if (table === 'items' || table === 'users') continue;
        otherDeleted[forgetReportNames[table] ?? table] = count;
      }
      return { userId, itemsDeleted: counts.items ?? 0, otherDeleted, verified: left === 0 };
    },
    async listUserIds() {
      return guard('list users', undefined, () => statements.listUserIds.all());
    },
    async getCached(userId, key) {
      requireUserId(userId);
      requireKey(key);
      return guard('read a cached value', userId, () => {
        const value = statements.getCached.get(userId, key);
        return value === undefined ? undefined : new Uint8Array(value);
      });
    },
    async setCached(userId, key, revision, value) {
      requireUserId(userId);
      requireKey(key);
      return guard('cache a value', userId, () =>
        setCachedTransaction.immediate(userId, key, revision, value),
      );
    },
    async getUserState(userId, key) {
      requireUserId(userId);
      requireKey(key);
      return guard('read user state', userId, () => {
        const value = statements.getState.get(userId, key);
        return value === undefined ? undefined : new Uint8Array(value);
      });
    },
    async setUserState(userId, key, value) {
      requireUserId(userId);
      requireKey(key);
      guard('write user state', userId, () => {
        if (value === undefined) statements.deleteState.run(userId, key);
        else statements.putState.run(userId, key, Buffer.from(value), Date.now());
      });
    },
    async describeUser(userId) {
      requireUserId(userId);
      return guard('describe the user', userId, () => {
        const user = statements.getUser.get(userId);
        if (!user) return undefined;
        return { ...user, items: statements.countItems.get(userId)! };
      });
    },
    async checkIntegrity() {
      return guard('check integrity', undefined, () => {
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
    async close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
