import { InvalidArgumentError, StoreError } from '@userplug/core';
import {
  createStoreSkeleton,
  type ListedItemRow,
  resolveQuantization,
  type SkeletonStore,
  type StoredVersion,
  type TextKey,
  type UpsertPlan,
  type UserEncoder,
  type VectorQuantization,
  type VectorRow,
} from '@userplug/store-kit';
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
export interface PostgresStore extends SkeletonStore<'postgres'> {
  /** The schema holding the tables. */
  readonly schema: string;
  /** Format of newly written vectors. */
  readonly quantization: VectorQuantization;
  /** Creates or upgrades the schema now, instead of on first use; throws a `StoreError` when it cannot. */
  migrate(): Promise<void>;
}

// The fields of an item row, in the order of the INSERT's unnest arrays.
const itemColumns = [
  'itemId',
  'itemHash',
  'textHash',
  'encoderId',
  'text',
  'kind',
  'timestamp',
  'rating',
  'label',
  'weight',
  'speaker',
  'self',
  'conversationId',
  'sessionId',
  'meta',
  'tokenCount',
] as const;

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
  const quantization = resolveQuantization(settings.quantization);
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
  const migrations = postgresMigrations(schema, partitions);
  let tablesWithUsers: string[] = [];
  let readiness: Promise<void> | undefined;

  const fail = (error: unknown, action: string, userId?: string) =>
    toPostgresStoreError(error, { server, schema, action, ...(userId === undefined ? {} : { userId }) });

  /**
   * Checks a client out with `onError` listening from the pool's own callback on. After an `await` would be too
   * late: the read that handed the client over (its previous user's last answer) may also hold the server's
   * FATAL on shutdown, and a client error without a listener crashes the process.
   */
  function connect(onError: (error: Error) => void): Promise<pg.PoolClient> {
    return new Promise((resolve, reject) => {
      pool.connect((error, client) => {
        if (error || !client) return reject(error);
        client.on('error', onError);
        resolve(client);
      });
    });
  }

  async function migrate(): Promise<void> {
    const ignoreConnectionError = () => {};
    const client = await connect(ignoreConnectionError);
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

  function ready(): Promise<void> {
    readiness ??= migrate().catch((error) => {
      // A server that was down may be up on the next call; a wrong schema stays wrong but is reported each time.
      readiness = undefined;
      throw fail(error, 'open the store');
    });
    return readiness;
  }

  async function query<T extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<T[]> {
    await ready();
    return (await pool.query<T>(text, values)).rows;
  }

  /** Runs `body` in one transaction holding this user's write lock: one writer per user at a time. */
  async function userTransaction<T>(userId: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    await ready();
    let broken = false;
    // A connection the server ends between two statements (a restart) is reported here, not thrown: without a
    // listener it would be an uncaught error. The next statement fails with it.
    const onConnectionError = () => {
      broken = true;
    };
    const client = await connect(onConnectionError);
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
      throw error;
    } finally {
      client.off('error', onConnectionError);
      client.release(broken);
    }
  }

  // Vectors of replaced or deleted texts that no item of the user uses any more.
  async function deleteOrphanVectors(client: pg.PoolClient, userId: string, texts: readonly TextKey[]) {
    if (texts.length === 0) return;
    await client.query(
      `DELETE FROM ${s}.vectors v USING unnest($2::text[], $3::text[]) AS r(encoder_id, text_hash)
       WHERE v.user_id = $1 AND v.encoder_id = r.encoder_id AND v.text_hash = r.text_hash
       AND NOT EXISTS (SELECT 1 FROM ${s}.items i WHERE i.user_id = $1 AND i.encoder_id = v.encoder_id AND i.text_hash = v.text_hash)`,
      [userId, texts.map((text) => text.encoderId), texts.map((text) => text.textHash)],
    );
  }

  async function writeItems(client: pg.PoolClient, userId: string, plan: UpsertPlan): Promise<void> {
    const { rows } = plan;
    await client.query(
      `INSERT INTO ${s}.items (user_id, item_id, seq, item_hash, text_hash, encoder_id, text, kind, time_ms, rating, label, weight,
         speaker, self, conversation_id, session_id, meta, token_count)
       SELECT $1, r.item_id, base.seq + r.position, r.item_hash, r.text_hash, r.encoder_id, r.text, r.kind, r.time_ms, r.rating, r.label, r.weight,
         r.speaker, r.self::boolean, r.conversation_id, r.session_id, r.meta::jsonb, r.token_count
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::float8[], $10::text[], $11::float8[],
           $12::text[], $13::int[], $14::text[], $15::text[], $16::text[], $17::int[])
         WITH ORDINALITY AS r(item_id, item_hash, text_hash, encoder_id, text, kind, time_ms, rating, label, weight,
           speaker, self, conversation_id, session_id, meta, token_count, position),
         (SELECT coalesce(max(seq), 0) AS seq FROM ${s}.items WHERE user_id = $1) AS base
       ON CONFLICT (user_id, item_id) DO UPDATE SET item_hash = excluded.item_hash, text_hash = excluded.text_hash,
         encoder_id = excluded.encoder_id, text = excluded.text, kind = excluded.kind, time_ms = excluded.time_ms,
         rating = excluded.rating, label = excluded.label, weight = excluded.weight, speaker = excluded.speaker,
         self = excluded.self, conversation_id = excluded.conversation_id, session_id = excluded.session_id,
         meta = excluded.meta, token_count = excluded.token_count`,
      [userId, ...itemColumns.map((column) => rows.map((row) => row[column]))],
    );
    const { encoderId } = plan.encoder;
    const texts = new Set(rows.map((row) => row.textHash));
    const have = await client.query(
      `SELECT text_hash FROM ${s}.vectors WHERE user_id = $1 AND encoder_id = $2 AND text_hash = ANY($3::text[])`,
      [userId, encoderId, [...texts]],
    );
    for (const row of have.rows) texts.delete(row.text_hash);
    if (texts.size === 0) return;
    const fresh = [...texts].map((textHash) => ({ textHash, ...plan.vectorRow(textHash) }));
    await client.query(
      `INSERT INTO ${s}.vectors (user_id, encoder_id, text_hash, piece_count, format, data)
       SELECT $1, $2, r.text_hash, r.piece_count, r.format, r.data
       FROM unnest($3::text[], $4::int[], $5::smallint[], $6::bytea[]) AS r(text_hash, piece_count, format, data)
       ON CONFLICT DO NOTHING`,
      [
        userId,
        encoderId,
        fresh.map((vector) => vector.textHash),
        fresh.map((vector) => vector.pieceCount),
        fresh.map((vector) => vector.format),
        fresh.map((vector) => vector.data),
      ],
    );
  }

  const { store, call } = createStoreSkeleton({
    id: 'postgres',
    name: `PostgreSQL store (schema "${schema}")`,
    location: `schema "${schema}"`,
    factory: 'createPostgresStore',
    textHoldsNul: false,
    quantization,
    upsertItems: (userId, itemIds, decide) =>
      userTransaction(userId, async (client) => {
        const user = await client.query<UserEncoder>(
          `SELECT encoder_id AS "encoderId", dimension FROM ${s}.users WHERE user_id = $1`,
          [userId],
        );
        const existing = await client.query<StoredVersion & { item_id: string }>(
          `SELECT item_id, item_hash AS "itemHash", text_hash AS "textHash", encoder_id AS "encoderId"
           FROM ${s}.items WHERE user_id = $1 AND item_id = ANY($2::text[])`,
          [userId, itemIds],
        );
        const plan = decide(user.rows[0], new Map(existing.rows.map((row) => [row.item_id, row])));
        if (plan.rows.length === 0) return plan.counts;
        await writeItems(client, userId, plan);
        await deleteOrphanVectors(client, userId, plan.replacedTexts);
        await client.query(
          `INSERT INTO ${s}.users (user_id, encoder_id, dimension, revision) VALUES ($1, $2, $3, nextval('${s}.revisions'))
           ON CONFLICT (user_id) DO UPDATE SET encoder_id = excluded.encoder_id, dimension = excluded.dimension, revision = excluded.revision`,
          [userId, plan.encoder.encoderId, plan.encoder.dimension],
        );
        await client.query(`DELETE FROM ${s}.user_cache WHERE user_id = $1`, [userId]);
        return plan.counts;
      }),
    // One statement: one consistent snapshot of the user's rows, from one partition of each table.
    listItems: (userId) =>
      query<ListedItemRow>(
        `SELECT i.item_id AS "itemId", i.item_hash AS "itemHash", i.text_hash AS "textHash", i.encoder_id AS "encoderId",
           i.text, i.kind, i.time_ms AS "timestamp", i.rating, i.label, i.weight, i.speaker, i.self::int AS self,
           i.conversation_id AS "conversationId", i.session_id AS "sessionId", i.meta::text AS meta,
           i.token_count AS "tokenCount", u.dimension, v.piece_count AS "pieceCount", v.format, v.data
         FROM ${s}.items i JOIN ${s}.users u ON u.user_id = i.user_id
         LEFT JOIN ${s}.vectors v ON v.user_id = i.user_id AND v.encoder_id = i.encoder_id AND v.text_hash = i.text_hash
         WHERE i.user_id = $1 ORDER BY i.seq`,
        [userId],
      ),
    async getItemHashes(userId, itemIds) {
      const rows = await query<{ item_id: string; item_hash: string }>(
        `SELECT item_id, item_hash FROM ${s}.items WHERE user_id = $1 AND item_id = ANY($2::text[])`,
        [userId, itemIds],
      );
      return rows.map((row): [string, string] => [row.item_id, row.item_hash]);
    },
    findVectors: (userId, encoderId, textHashes) =>
      query<VectorRow & { textHash: string; dimension: number }>(
        `SELECT v.text_hash AS "textHash", v.piece_count AS "pieceCount", v.format, v.data, u.dimension
         FROM ${s}.vectors v JOIN ${s}.users u ON u.user_id = v.user_id AND u.encoder_id = v.encoder_id
         WHERE v.user_id = $1 AND v.encoder_id = $2 AND v.text_hash = ANY($3::text[])`,
        [userId, encoderId, textHashes],
      ),
    deleteItems: (userId, itemIds) =>
      userTransaction(userId, async (client) => {
        const deleted = await client.query<TextKey>(
          `DELETE FROM ${s}.items WHERE user_id = $1 AND item_id = ANY($2::text[])
           RETURNING encoder_id AS "encoderId", text_hash AS "textHash"`,
          [userId, itemIds],
        );
        if (deleted.rows.length === 0) return 0;
        await deleteOrphanVectors(client, userId, deleted.rows);
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
        return deleted.rows.length;
      }),
    async countItems(userId) {
      const rows = await query<{ count: number }>(
        `SELECT count(*)::int AS count FROM ${s}.items WHERE user_id = $1`,
        [userId],
      );
      return rows[0]!.count;
    },
    async getRevision(userId) {
      // bigint arrives as text.
      const rows = await query<{ revision: string }>(`SELECT revision FROM ${s}.users WHERE user_id = $1`, [
        userId,
      ]);
      return rows[0] ? Number(rows[0].revision) : 0;
    },
    eraseUser: (userId) =>
      userTransaction(userId, async (client) => {
        const erased: Record<string, number> = {};
        for (const table of tablesWithUsers) {
          const result = await client.query(`DELETE FROM ${s}.${quoteIdentifier(table)} WHERE user_id = $1`, [
            userId,
          ]);
          erased[table] = result.rowCount ?? 0;
        }
        return erased;
      }),
    async countUserRows(userId) {
      await ready();
      const counts = tablesWithUsers.map(
        (table) => `(SELECT count(*) FROM ${s}.${quoteIdentifier(table)} WHERE user_id = $1)`,
      );
      const rows = await query<{ left: number }>(`SELECT (${counts.join(' + ')})::int AS left`, [userId]);
      return rows[0]!.left;
    },
    async listUserIds() {
      const rows = await query<{ user_id: string }>(
        `SELECT user_id FROM ${s}.users ORDER BY user_id COLLATE "C"`,
        [],
      );
      return rows.map((row) => row.user_id);
    },
    async getCached(userId, key) {
      const rows = await query<{ value: Buffer }>(
        `SELECT c.value FROM ${s}.user_cache c JOIN ${s}.users u ON u.user_id = c.user_id AND u.revision = c.revision
         WHERE c.user_id = $1 AND c.key = $2`,
        [userId, key],
      );
      return rows[0]?.value;
    },
    async setCached(userId, key, revision, value) {
      // Stored only while the user is still at `revision`; a later item change deletes it, and reads check the revision anyway.
      const rows = await query(
        `INSERT INTO ${s}.user_cache (user_id, key, revision, value)
         SELECT $1, $2, $3, $4 WHERE EXISTS (SELECT 1 FROM ${s}.users WHERE user_id = $1 AND revision = $3)
         ON CONFLICT (user_id, key) DO UPDATE SET revision = excluded.revision, value = excluded.value
         RETURNING 1 AS stored`,
        [userId, key, revision, Buffer.from(value)],
      );
      return rows.length > 0;
    },
    async getUserState(userId, key) {
      const rows = await query<{ value: Buffer }>(
        `SELECT value FROM ${s}.user_state WHERE user_id = $1 AND key = $2`,
        [userId, key],
      );
      return rows[0]?.value;
    },
    async setUserState(userId, key, value) {
      if (value === undefined) {
        await query(`DELETE FROM ${s}.user_state WHERE user_id = $1 AND key = $2`, [userId, key]);
        return;
      }
      await query(
        `INSERT INTO ${s}.user_state (user_id, key, value) VALUES ($1, $2, $3)
         ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value, updated_at = now()`,
        [userId, key, Buffer.from(value)],
      );
    },
    async close() {
      if (ownsPool) await pool.end();
    },
    toStoreError: fail,
  });

  return {
    ...store,
    id: 'postgres',
    schema,
    quantization,
    migrate: () => call('create or upgrade the schema', undefined, ready),
  };
}
