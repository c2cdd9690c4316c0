import {
  checkItemBatch,
  decodeVectors,
  encodeVectors,
  type ForgetReport,
  InvalidArgumentError,
  mixedEncoderError,
  requireWellFormed,
  type StoredItem,
  StoreError,
  type UpsertCounts,
  type UserplugStore,
  type VectorQuantization,
  vectorFormatCode,
} from '@userplug/core';
import pg from 'pg';
import { postgresMigrations, quoteIdentifier } from './postgres-migrations.js';
import { describeServer, toPostgresStoreError } from './postgres-store-error.js';

/** Settings of {@link createPostgresStore}. Every field has a default, except where to connect. */
export interface PostgresStoreSettings {
  /**
   * Connection string, such as `postgresql://user:password@host:5432/db`. Ignored when `pool` is given.
   * Default: environment variable `DATABASE_URL`.
   */
  connectionString?: string;
  /** A `pg.Pool` to use instead of creating one; the store never ends it. Default: a pool the store creates and ends on `close`. */
  pool?: pg.Pool;
  /** Schema that holds userplug's tables; created when missing. A plain identifier. Default `userplug`. */
  schema?: string;
  /**
   * Hash partitions per table, fixed when the schema is created (`0`: plain tables, for Citus which
   * distributes by user id itself). Default 16.
   */
  partitions?: number;
  /** Create or upgrade the schema on first use. When false, a missing or older schema is an error. Default true. */
  migrate?: boolean;
  /**
   * How new vectors are written: `float32` (exact) or `int8` (about 4× smaller; recall cost measured in the
   * SQLite store's README, same format). Default `float32`.
   */
  quantization?: VectorQuantization;
  /** Most connections of the pool the store creates. Default 10. */
  maxConnections?: number;
}

/** A userplug store in PostgreSQL. */
export interface PostgresStore extends UserplugStore {
  readonly id: 'postgres';
  /** The schema holding the tables. */
  readonly schema: string;
  /** Format of newly written vectors. */
  readonly quantization: VectorQuantization;
  getCached(userId: string, key: string): Promise<Uint8Array | undefined>;
  setCached(userId: string, key: string, revision: number, value: Uint8Array): Promise<boolean>;
  getUserState(userId: string, key: string): Promise<Uint8Array | undefined>;
  setUserState(userId: string, key: string, value: Uint8Array | undefined): Promise<void>;
  /** Creates or upgrades the schema now, instead of on first use; throws a `StoreError` when it cannot. */
  migrate(): Promise<void>;
}

interface ItemRow {
  item_id: string;
  item_hash: string;
  text_hash: string;
  encoder_id: string;
  text: string;
  kind: string | null;
  time_ms: number | null;
  rating: number | null;
  label: string | null;
  weight: number | null;
  meta: string | null;
  token_count: number;
  dimension: number;
  piece_count: number | null;
  format: number | null;
  data: Buffer | null;
}

const forgetReportNames: Record<string, string> = { user_cache: 'cachedValues', user_state: 'userState' };

function requireId(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgumentError(name, `${name} must be a non-empty string.`);
  }
  requireWellFormed(name, value);
  if (value.includes('\u0000')) {
    throw new InvalidArgumentError(
      name,
      `${name} "${value.replaceAll('\u0000', '\\0')}" holds a NUL (U+0000) character, which PostgreSQL text cannot store. Remove it.`,
    );
  }
}

// PostgreSQL text and jsonb cannot hold U+0000; the item's hashes keep the original, so re-ingesting is still a no-op.
function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '\uFFFD') : text;
}

/**
 * A userplug store in PostgreSQL (plain `pg`, no extension): every table hash-partitioned on user id and every
 * query scoped to one user, so a personalize call reads one user's rows and scores them in the app process.
 * App instances scale horizontally; the database shards by user (see the README for Citus). The schema is
 * created or upgraded on first use.
 */
export function createPostgresStore(settings: PostgresStoreSettings = {}): PostgresStore {
  const schema = settings.schema ?? 'userplug';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new InvalidArgumentError(
      'schema',
      `schema must be a lower-case identifier such as "userplug", got "${schema}".`,
    );
  }
  const partitions = settings.partitions ?? 16;
  if (!Number.isInteger(partitions) || partitions < 0 || partitions > 1024) {
    throw new InvalidArgumentError(
      'partitions',
      `partitions must be a whole number from 0 to 1024, got ${partitions}.`,
    );
  }
  const quantization = settings.quantization ?? 'float32';
  if (quantization !== 'float32' && quantization !== 'int8') {
    throw new InvalidArgumentError(
      'quantization',
      `quantization must be "float32" or "int8", got "${String(quantization)}".`,
    );
  }
  const connectionString = settings.pool
    ? undefined
    : (settings.connectionString ?? process.env.DATABASE_URL);
  if (!settings.pool && !connectionString) {
    throw new InvalidArgumentError(
      'connectionString',
      'No PostgreSQL to connect to: pass `connectionString` or `pool`, or set DATABASE_URL (postgresql://user:password@host:5432/db).',
    );
  }
  const ownsPool = !settings.pool;
  const pool = settings.pool ?? new pg.Pool({ connectionString, max: settings.maxConnections ?? 10 });
  // An idle client's network error must not crash the process; the next query reports it.
  if (ownsPool) pool.on('error', () => {});
  const server = describeServer(connectionString);
  const s = quoteIdentifier(schema);
  const formatCode = vectorFormatCode[quantization];
  const migrations = postgresMigrations(schema, partitions);
  let tablesWithUsers: string[] = [];
  let readiness: Promise<void> | undefined;
  let closed = false;

  const fail = (error: unknown, action: string, userId?: string) =>
    toPostgresStoreError(error, { server, schema, action, ...(userId === undefined ? {} : { userId }) });

  async function migrate(): Promise<void> {
    const client = await pool.connect();
    const ignoreConnectionError = () => {};
    client.on('error', ignoreConnectionError);
    try {
      await client.query('BEGIN');
      // One migrator at a time across every app instance.
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `userplug-migrate:${schema}`,
      ]);
      const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
      let version = 0;
      if (exists.rowCount) {
        const table = await client.query('SELECT to_regclass($1) IS NOT NULL AS present', [
          `${s}.schema_version`,
        ]);
        if (table.rows[0].present) {
          const found = await client.query(
            `SELECT coalesce(max(version), 0)::int AS version FROM ${s}.schema_version`,
          );
          version = found.rows[0].version as number;
        } else {
          const others = await client.query(
            "SELECT count(*)::int AS count FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')",
            [schema],
          );
          if (others.rows[0].count > 0) {
            throw new StoreError(
              `Schema "${schema}" on ${server} holds tables that are not userplug's. Pass another \`schema\` (the default is "userplug").`,
            );
          }
        }
      }
      if (version > migrations.length) {
        throw new StoreError(
          `Schema "${schema}" on ${server} has userplug schema version ${version}, written by a newer @userplug/store-postgres; ` +
            `this version reads up to ${migrations.length}. Upgrade @userplug/store-postgres on every app instance, or pass another \`schema\`.`,
        );
      }
      if (version < migrations.length && settings.migrate === false) {
        throw new StoreError(
          `Schema "${schema}" on ${server} is at userplug schema version ${version}, this version needs ${migrations.length}, and \`migrate\` is false. ` +
            'Open the store once with `migrate: true` (the default) to create or upgrade it.',
        );
      }
      if (version < migrations.length) {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await client.query(
          `CREATE TABLE IF NOT EXISTS ${s}.schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
        );
        for (let next = version; next < migrations.length; next++) {
          await client.query(migrations[next]!);
          await client.query(`INSERT INTO ${s}.schema_version (version) VALUES ($1)`, [next + 1]);
        }
      }
      // Every top-level table with a user_id column, so forget() also reaches tables that later migrations add.
      const tables = await client.query(
        `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
         WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY c.relname`,
        [schema],
      );
      tablesWithUsers = tables.rows.map((row) => row.name as string);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.off('error', ignoreConnectionError);
      client.release();
    }
  }

  function ready(action: string, userId?: string): Promise<void> {
    if (closed) {
      return Promise.reject(
        new StoreError(
          `The PostgreSQL store (schema "${schema}") is closed; cannot ${action}. Create a new one.`,
        ),
      );
    }
    readiness ??= migrate().catch((error) => {
      // A server that was down may be up on the next call; a wrong schema stays wrong but is reported each time.
      readiness = undefined;
      throw fail(error, 'open the store');
    });
    return readiness.catch((error) => {
      throw fail(error, action, userId);
    });
  }

  async function query<T extends pg.QueryResultRow>(
    action: string,
    userId: string | undefined,
    text: string,
    values: unknown[],
  ): Promise<T[]> {
    await ready(action, userId);
    try {
      return (await pool.query<T>(text, values)).rows;
    } catch (error) {
      throw fail(error, action, userId);
    }
  }

  /** Runs `body` in one transaction holding this user's write lock: one writer per user at a time. */
  async function userTransaction<T>(
    action: string,
    userId: string,
    body: (client: pg.PoolClient) => Promise<T>,
  ): Promise<T> {
    await ready(action, userId);
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw fail(error, action, userId);
    }
    let broken = false;
    // A connection the server ends between two statements (a restart) is reported here, not thrown: without a
    // listener it would be an uncaught error. The next statement fails with it.
    const onConnectionError = () => {
      broken = true;
    };
    client.on('error', onConnectionError);
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
        `userplug:${schema}:${userId}`,
      ]);
      const result = await body(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw fail(error, action, userId);
    } finally {
      client.off('error', onConnectionError);
      client.release(broken);
    }
  }

  async function collectGarbage(
    client: pg.PoolClient,
    userId: string,
    replaced: Map<string, [string, string]>,
  ) {
    if (replaced.size === 0) return;
    const pairs = [...replaced.values()];
    await client.query(
      `DELETE FROM ${s}.vectors v USING unnest($2::text[], $3::text[]) AS r(encoder_id, text_hash)
       WHERE v.user_id = $1 AND v.encoder_id = r.encoder_id AND v.text_hash = r.text_hash
       AND NOT EXISTS (SELECT 1 FROM ${s}.items i WHERE i.user_id = $1 AND i.encoder_id = v.encoder_id AND i.text_hash = v.text_hash)`,
      [userId, pairs.map(([encoderId]) => encoderId), pairs.map(([, textHash]) => textHash)],
    );
  }

  return {
    id: 'postgres',
    schema,
    quantization,
    migrate: () => ready('create or upgrade the schema'),
    async upsertItems(userId, items): Promise<UpsertCounts> {
      requireId('userId', userId);
      if (items.length === 0) return { inserted: 0, updated: 0 };
      for (const item of items) requireId('item id', item?.id);
      const encoder = checkItemBatch(userId, items);
      return userTransaction('store items', userId, async (client) => {
        const user = (
          await client.query('SELECT encoder_id, dimension FROM ' + `${s}.users WHERE user_id = $1`, [userId])
        ).rows[0] as { encoder_id: string; dimension: number } | undefined;
        if (user && (user.encoder_id !== encoder.encoderId || user.dimension !== encoder.dimension)) {
          throw mixedEncoderError(
            userId,
            { id: items[0]!.id, ...encoder },
            { encoderId: user.encoder_id, dimension: user.dimension },
            `schema "${schema}"`,
          );
        }
        const ids = [...new Set(items.map((item) => item.id))];
        const existing = await client.query(
          `SELECT item_id, item_hash, text_hash, encoder_id FROM ${s}.items WHERE user_id = $1 AND item_id = ANY($2::text[])`,
          [userId, ids],
        );
        const current = new Map<string, string>();
        const replaced = new Map<string, [string, string]>();
        for (const row of existing.rows) current.set(row.item_id, row.item_hash);
        const previous = new Map(
          existing.rows.map((row) => [
            row.item_id as string,
            row as { text_hash: string; encoder_id: string },
          ]),
        );
        // Sequential semantics, as if each item were upserted alone; only the last version of an id is written.
        const latest = new Map<string, StoredItem>();
        let inserted = 0;
        let updated = 0;
        for (const item of items) {
          const hash = current.get(item.id);
          if (hash === item.itemHash) continue;
          if (hash === undefined) inserted++;
          else updated++;
          current.set(item.id, item.itemHash);
          latest.delete(item.id);
          latest.set(item.id, item);
        }
        if (latest.size === 0) return { inserted, updated };
        for (const item of latest.values()) {
          const old = previous.get(item.id);
          if (old) replaced.set(`${old.encoder_id}\u0000${old.text_hash}`, [old.encoder_id, old.text_hash]);
        }
        const rows = [...latest.values()];
        await client.query(
          `INSERT INTO ${s}.items (user_id, item_id, seq, item_hash, text_hash, encoder_id, text, kind, time_ms, rating, label, weight, meta, token_count)
           SELECT $1, r.item_id, base.seq + r.position, r.item_hash, r.text_hash, r.encoder_id, r.text, r.kind, r.time_ms, r.rating, r.label, r.weight, r.meta::jsonb, r.token_count
           FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::float8[], $10::text[], $11::float8[], $12::text[], $13::int[])
             WITH ORDINALITY AS r(item_id, item_hash, text_hash, encoder_id, text, kind, time_ms, rating, label, weight, meta, token_count, position),
             (SELECT coalesce(max(seq), 0) AS seq FROM ${s}.items WHERE user_id = $1) AS base
           ON CONFLICT (user_id, item_id) DO UPDATE SET item_hash = excluded.item_hash, text_hash = excluded.text_hash,
             encoder_id = excluded.encoder_id, text = excluded.text, kind = excluded.kind, time_ms = excluded.time_ms,
             rating = excluded.rating, label = excluded.label, weight = excluded.weight, meta = excluded.meta,
             token_count = excluded.token_count`,
          [
            userId,
            rows.map((item) => item.id),
            rows.map((item) => item.itemHash),
            rows.map((item) => item.textHash),
            rows.map((item) => item.encoderId),
            rows.map((item) => withoutNul(item.text)),
            rows.map((item) => (item.kind === undefined ? null : withoutNul(item.kind))),
            rows.map((item) => item.timestamp ?? null),
            rows.map((item) => item.rating ?? null),
            rows.map((item) => (item.label === undefined ? null : withoutNul(item.label))),
            rows.map((item) => item.weight ?? null),
            rows.map((item) =>
              item.meta === undefined ? null : JSON.stringify(item.meta).replaceAll('\\u0000', '\\ufffd'),
            ),
            rows.map((item) => item.tokenCount),
          ],
        );
        const texts = new Map<string, StoredItem>();
        for (const item of rows) texts.set(item.textHash, item);
        const have = await client.query(
          `SELECT text_hash FROM ${s}.vectors WHERE user_id = $1 AND encoder_id = $2 AND text_hash = ANY($3::text[])`,
          [userId, encoder.encoderId, [...texts.keys()]],
        );
        for (const row of have.rows) texts.delete(row.text_hash);
        if (texts.size > 0) {
          const fresh = [...texts.values()];
          await client.query(
            `INSERT INTO ${s}.vectors (user_id, encoder_id, text_hash, piece_count, format, data)
             SELECT $1, $2, r.text_hash, r.piece_count, $3, r.data FROM unnest($4::text[], $5::int[], $6::bytea[]) AS r(text_hash, piece_count, data)
             ON CONFLICT DO NOTHING`,
            [
              userId,
              encoder.encoderId,
              formatCode,
              fresh.map((item) => item.textHash),
              fresh.map((item) => item.pieceCount),
              fresh.map((item) => encodeVectors(item.vectors, item.pieceCount, quantization)),
            ],
          );
        }
        await collectGarbage(client, userId, replaced);
        await client.query(
          `INSERT INTO ${s}.users (user_id, encoder_id, dimension, revision) VALUES ($1, $2, $3, nextval('${s}.revisions'))
           ON CONFLICT (user_id) DO UPDATE SET encoder_id = excluded.encoder_id, dimension = excluded.dimension, revision = excluded.revision`,
          [userId, encoder.encoderId, encoder.dimension],
        );
        await client.query(`DELETE FROM ${s}.user_cache WHERE user_id = $1`, [userId]);
        return { inserted, updated };
      });
    },
    async listItems(userId) {
      requireId('userId', userId);
      // One statement: one consistent snapshot of the user's rows, from one partition of each table.
      const rows = await query<ItemRow>(
        'list items',
        userId,
        `SELECT i.item_id, i.item_hash, i.text_hash, i.encoder_id, i.text, i.kind, i.time_ms, i.rating, i.label, i.weight,
           i.meta::text AS meta, i.token_count, u.dimension, v.piece_count, v.format, v.data
         FROM ${s}.items i JOIN ${s}.users u ON u.user_id = i.user_id
         LEFT JOIN ${s}.vectors v ON v.user_id = i.user_id AND v.encoder_id = i.encoder_id AND v.text_hash = i.text_hash
         WHERE i.user_id = $1 ORDER BY i.seq`,
        [userId],
      );
      return rows.map((row): StoredItem => {
        const vectors =
          row.data === null || row.piece_count === null || row.format === null
            ? undefined
            : decodeVectors(row.data, row.piece_count, row.dimension, row.format);
        if (!vectors) {
          throw new StoreError(
            `The vectors of item "${row.item_id}" of user "${userId}" in schema "${schema}" are missing or have the wrong length for dimension ${row.dimension}. ` +
              'Ingest that item again, or forget the user and ingest the history again.',
            { userId },
          );
        }
        // Plain assignments: conditional spreads cost a temporary object per field, 10k items per cold read.
        const item: StoredItem = {
          id: row.item_id,
          text: row.text,
          itemHash: row.item_hash,
          textHash: row.text_hash,
          encoderId: row.encoder_id,
          vectors,
          pieceCount: row.piece_count!,
          tokenCount: row.token_count,
        };
        if (row.kind !== null) item.kind = row.kind;
        if (row.time_ms !== null) item.timestamp = row.time_ms;
        if (row.rating !== null) item.rating = row.rating;
        if (row.label !== null) item.label = row.label;
        if (row.weight !== null) item.weight = row.weight;
        if (row.meta !== null) item.meta = JSON.parse(row.meta) as Record<string, unknown>;
        return item;
      });
    },
    async getItemHashes(userId, itemIds) {
      requireId('userId', userId);
      const hashes = new Map<string, string>();
      if (itemIds.length === 0) return hashes;
      const rows = await query<{ item_id: string; item_hash: string }>(
        'read item hashes',
        userId,
        `SELECT item_id, item_hash FROM ${s}.items WHERE user_id = $1 AND item_id = ANY($2::text[])`,
        [userId, itemIds.map(withoutNul)],
      );
      for (const row of rows) hashes.set(row.item_id, row.item_hash);
      return hashes;
    },
    async findVectors(userId, encoderId, textHashes) {
      requireId('userId', userId);
      const found = new Map<string, { vectors: Float32Array; pieceCount: number }>();
      if (textHashes.length === 0) return found;
      const rows = await query<{
        text_hash: string;
        piece_count: number;
        format: number;
        data: Buffer;
        dimension: number;
      }>(
        'read vectors',
        userId,
        `SELECT v.text_hash, v.piece_count, v.format, v.data, u.dimension
         FROM ${s}.vectors v JOIN ${s}.users u ON u.user_id = v.user_id AND u.encoder_id = v.encoder_id
         WHERE v.user_id = $1 AND v.encoder_id = $2 AND v.text_hash = ANY($3::text[])`,
        [userId, encoderId, [...new Set(textHashes)]],
      );
      for (const row of rows) {
        const vectors = decodeVectors(row.data, row.piece_count, row.dimension, row.format);
        if (vectors) found.set(row.text_hash, { vectors, pieceCount: row.piece_count });
      }
      return found;
    },
    async deleteItems(userId, itemIds) {
      requireId('userId', userId);
      if (itemIds.length === 0) return 0;
      return userTransaction('delete items', userId, async (client) => {
        const deleted = await client.query(
          `DELETE FROM ${s}.items WHERE user_id = $1 AND item_id = ANY($2::text[]) RETURNING encoder_id, text_hash`,
          [userId, [...new Set(itemIds)].map(withoutNul)],
        );
        if (!deleted.rowCount) return 0;
        const replaced = new Map<string, [string, string]>();
        for (const row of deleted.rows)
          replaced.set(`${row.encoder_id}\u0000${row.text_hash}`, [row.encoder_id, row.text_hash]);
        await collectGarbage(client, userId, replaced);
        const left = await client.query(
          `SELECT EXISTS (SELECT 1 FROM ${s}.items WHERE user_id = $1) AS any`,
          [userId],
        );
        if (left.rows[0].any) {
          await client.query(
            `UPDATE ${s}.users SET revision = nextval('${s}.revisions') WHERE user_id = $1`,
            [userId],
          );
        } else {
          await client.query(`DELETE FROM ${s}.users WHERE user_id = $1`, [userId]);
        }
        await client.query(`DELETE FROM ${s}.user_cache WHERE user_id = $1`, [userId]);
        return deleted.rowCount;
      });
    },
    async countItems(userId) {
      requireId('userId', userId);
      const rows = await query<{ count: number }>(
        'count items',
        userId,
        `SELECT count(*)::int AS count FROM ${s}.items WHERE user_id = $1`,
        [userId],
      );
      return rows[0]!.count;
    },
    async getRevision(userId) {
      requireId('userId', userId);
      const rows = await query<{ revision: string }>(
        'read the revision',
        userId,
        `SELECT revision FROM ${s}.users WHERE user_id = $1`,
        [userId],
      );
      return rows[0] ? Number(rows[0].revision) : 0;
    },
    async forget(userId): Promise<ForgetReport> {
      requireId('userId', userId);
      const counts = await userTransaction('forget the user', userId, async (client) => {
        const erased: Record<string, number> = {};
        for (const table of tablesWithUsers) {
          erased[table] =
            (await client.query(`DELETE FROM ${s}.${quoteIdentifier(table)} WHERE user_id = $1`, [userId]))
              .rowCount ?? 0;
        }
        return erased;
      });
      // Read again after the commit: `verified` is a fact about the database, not about our counts.
      const left = await query<{ left: number }>(
        'verify the erasure',
        userId,
        `SELECT (${tablesWithUsers.map((table) => `(SELECT count(*) FROM ${s}.${quoteIdentifier(table)} WHERE user_id = $1)`).join(' + ')})::int AS left`,
        [userId],
      );
      const otherDeleted: Record<string, number> = {};
      for (const [table, count] of Object.entries(counts)) {
        if (table === 'items' || table === 'users') continue;
        otherDeleted[forgetReportNames[table] ?? table] = count;
      }
      return { userId, itemsDeleted: counts.items ?? 0, otherDeleted, verified: left[0]!.left === 0 };
    },
    async listUserIds() {
      const rows = await query<{ user_id: string }>(
        'list users',
        undefined,
        `SELECT user_id FROM ${s}.users ORDER BY user_id COLLATE "C"`,
        [],
      );
      return rows.map((row) => row.user_id);
    },
    async getCached(userId, key) {
      requireId('userId', userId);
      requireId('key', key);
      const rows = await query<{ value: Buffer }>(
        'read a cached value',
        userId,
        `SELECT c.value FROM ${s}.user_cache c JOIN ${s}.users u ON u.user_id = c.user_id AND u.revision = c.revision
         WHERE c.user_id = $1 AND c.key = $2`,
        [userId, key],
      );
      return rows[0] ? new Uint8Array(rows[0].value) : undefined;
    },
    async setCached(userId, key, revision, value) {
      requireId('userId', userId);
      requireId('key', key);
      // Stored only while the user is still at `revision`; a later item change deletes it, and reads check the revision anyway.
      const rows = await query<{ stored: number }>(
        'cache a value',
        userId,
        `INSERT INTO ${s}.user_cache (user_id, key, revision, value)
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM ${s}.users WHERE user_id = $1 AND revision = $3)
         ON CONFLICT (user_id, key) DO UPDATE SET revision = excluded.revision, value = excluded.value
         RETURNING 1 AS stored`,
        [userId, key, revision, Buffer.from(value)],
      );
      return rows.length > 0;
    },
    async getUserState(userId, key) {
      requireId('userId', userId);
      requireId('key', key);
      const rows = await query<{ value: Buffer }>(
        'read user state',
        userId,
        `SELECT value FROM ${s}.user_state WHERE user_id = $1 AND key = $2`,
        [userId, key],
      );
      return rows[0] ? new Uint8Array(rows[0].value) : undefined;
    },
    async setUserState(userId, key, value) {
      requireId('userId', userId);
      requireId('key', key);
      if (value === undefined) {
        await query(
          'delete user state',
          userId,
          `DELETE FROM ${s}.user_state WHERE user_id = $1 AND key = $2`,
          [userId, key],
        );
        return;
      }
      await query(
        'write user state',
        userId,
        `INSERT INTO ${s}.user_state (user_id, key, value) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, updated_at = now()`,
        [userId, key, Buffer.from(value)],
      );
    },
    async close() {
      if (closed) return;
      closed = true;
      if (ownsPool) await pool.end();
    },
  };
}
