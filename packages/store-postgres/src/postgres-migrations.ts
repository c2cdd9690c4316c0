/** Quotes an identifier for SQL. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Tables keyed by user id, in the order they are created. */
export const userTables = ['users', 'items', 'vectors', 'user_cache', 'user_state'] as const;

function partitioned(schema: string, table: string, columns: string, partitions: number): string {
  const name = `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
  if (partitions === 0) return `CREATE TABLE ${name} (${columns});`;
  const parts = Array.from(
    { length: partitions },
    (_, remainder) =>
      `CREATE TABLE ${quoteIdentifier(schema)}.${quoteIdentifier(`${table}_p${remainder}`)} PARTITION OF ${name} ` +
      `FOR VALUES WITH (MODULUS ${partitions}, REMAINDER ${remainder});`,
  );
  return [`CREATE TABLE ${name} (${columns}) PARTITION BY HASH (user_id);`, ...parts].join('\n');
}

/**
 * Schema migrations, in order: migration `n` (1-based) is recorded as version `n` in `schema_version`.
 * Every table is hash-partitioned on user_id (a user's rows live in one partition) unless `partitions` is 0.
 * Never edit a released migration; append a new one.
 */
export function postgresMigrations(schema: string, partitions: number): string[] {
  const s = quoteIdentifier(schema);
  return [
    [
      `CREATE SEQUENCE ${s}.revisions;`,
      partitioned(
        schema,
        'users',
        'user_id text NOT NULL, encoder_id text NOT NULL, dimension integer NOT NULL, revision bigint NOT NULL, PRIMARY KEY (user_id)',
        partitions,
      ),
      partitioned(
        schema,
        'items',
        `user_id text NOT NULL, item_id text NOT NULL, seq bigint NOT NULL, item_hash text NOT NULL, text_hash text NOT NULL,
         encoder_id text NOT NULL, text text NOT NULL, kind text, time_ms double precision, rating double precision,
         label text, weight double precision, meta jsonb, token_count integer NOT NULL, PRIMARY KEY (user_id, item_id)`,
        partitions,
      ),
      `CREATE INDEX items_by_user ON ${s}.items (user_id, seq);`,
      `CREATE INDEX items_by_text ON ${s}.items (user_id, encoder_id, text_hash);`,
      partitioned(
        schema,
        'vectors',
        `user_id text NOT NULL, encoder_id text NOT NULL, text_hash text NOT NULL, piece_count integer NOT NULL,
         format smallint NOT NULL, data bytea NOT NULL, PRIMARY KEY (user_id, encoder_id, text_hash)`,
        partitions,
      ),
      partitioned(
        schema,
        'user_cache',
        'user_id text NOT NULL, key text NOT NULL, revision bigint NOT NULL, value bytea NOT NULL, PRIMARY KEY (user_id, key)',
        partitions,
      ),
      partitioned(
        schema,
        'user_state',
        'user_id text NOT NULL, key text NOT NULL, value bytea NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (user_id, key)',
        partitions,
      ),
    ].join('\n'),
    // 2: the conversation fields of chat turns (items of schema 1 had none: their rows and hashes stay as they are).
    `ALTER TABLE ${s}.items ADD COLUMN speaker text, ADD COLUMN self boolean, ADD COLUMN conversation_id text,
     ADD COLUMN session_id text;`,
  ];
}
