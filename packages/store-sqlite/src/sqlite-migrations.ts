/** `PRAGMA application_id` of a userplug store ("UPLG"), so a foreign SQLite file is never taken for one. */
export const sqliteApplicationId = 0x55504c47;

/**
 * Schema migrations, in order: migration `n` (1-based) moves `PRAGMA user_version` from `n - 1` to `n`.
 * Never edit a released migration; append a new one.
 */
export const sqliteMigrations: readonly string[] = [
  `
  CREATE TABLE store_meta (
    key TEXT PRIMARY KEY NOT NULL,
    value INTEGER NOT NULL
  );
  INSERT INTO store_meta (key, value) VALUES ('revision', 0);

  -- One row per user with items: the encoder all of the user's vectors come from, and the revision.
  CREATE TABLE users (
    user_id TEXT PRIMARY KEY NOT NULL,
    encoder_id TEXT NOT NULL,
    dimension INTEGER NOT NULL,
    revision INTEGER NOT NULL
  );

  -- id gives the order of first insertion; an update keeps it.
  CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    user_id TEXT NOT NULL,
    item_id TEXT NOT NULL,
    item_hash TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    encoder_id TEXT NOT NULL,
    text TEXT NOT NULL,
    kind TEXT,
    timestamp REAL,
    rating REAL,
    label TEXT,
    weight REAL,
    meta TEXT,
    token_count INTEGER NOT NULL,
    UNIQUE (user_id, item_id)
  );
  CREATE INDEX items_by_user ON items (user_id, id);
  CREATE INDEX items_by_text ON items (user_id, encoder_id, text_hash);

  -- One row per distinct text of a user (content-hash dedup): equal texts share their vectors.
  CREATE TABLE vectors (
    user_id TEXT NOT NULL,
    encoder_id TEXT NOT NULL,
    text_hash TEXT NOT NULL,
    piece_count INTEGER NOT NULL,
    format INTEGER NOT NULL,
    data BLOB NOT NULL,
    UNIQUE (user_id, encoder_id, text_hash)
  );

  -- Values computed from a user's items at a revision (persona parts); dropped whenever the items change.
  CREATE TABLE user_cache (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    revision INTEGER NOT NULL,
    value BLOB NOT NULL,
    PRIMARY KEY (user_id, key)
  );

  -- Per-user state that outlives item changes (trained per-user parameters).
  CREATE TABLE user_state (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
  );
  `,
  // 2: the conversation fields of chat turns (items of schema 1 had none: their rows and hashes stay as they are).
  `
  ALTER TABLE items ADD COLUMN speaker TEXT;
  ALTER TABLE items ADD COLUMN self INTEGER;
  ALTER TABLE items ADD COLUMN conversation_id TEXT;
  ALTER TABLE items ADD COLUMN session_id TEXT;
  `,
];
