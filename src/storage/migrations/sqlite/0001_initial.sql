-- Initial schema of the embedded (SQLite) engine. Times are microseconds since the Unix
-- epoch (UTC); days are 'YYYY-MM-DD' (UTC); booleans are 0/1.

CREATE TABLE users (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  telegram_id    INTEGER NOT NULL UNIQUE,
  first_name     TEXT    NOT NULL DEFAULT '',
  last_name      TEXT,
  username       TEXT,
  language_code  TEXT,
  settings       TEXT    NOT NULL DEFAULT '{}',
  is_banned      INTEGER NOT NULL DEFAULT 0,
  premium_until  INTEGER,
  usage_day      TEXT,
  usage_count    INTEGER NOT NULL DEFAULT 0,
  created_at     INTEGER NOT NULL,
  updated_at     INTEGER NOT NULL
);
CREATE INDEX users_premium_until_idx ON users (premium_until);

CREATE TABLE messages (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id            INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role               TEXT    NOT NULL CHECK (role IN ('user', 'assistant')),
  content            TEXT    NOT NULL,
  has_image          INTEGER NOT NULL DEFAULT 0,
  tokens             INTEGER NOT NULL DEFAULT 0,
  status             TEXT    NOT NULL DEFAULT 'complete' CHECK (status IN ('pending', 'complete', 'failed')),
  client_message_id  TEXT    CHECK (length(CAST(client_message_id AS BLOB)) BETWEEN 1 AND 64),
  reply_to_id        INTEGER,
  created_at         INTEGER NOT NULL
);
CREATE INDEX messages_user_id_idx ON messages (user_id, id);
CREATE UNIQUE INDEX messages_user_client_id_idx ON messages (user_id, client_message_id);
CREATE INDEX messages_reply_to_idx ON messages (user_id, reply_to_id) WHERE reply_to_id IS NOT NULL;
CREATE INDEX messages_created_at_idx ON messages (created_at);

-- Full-text index over message content, kept in sync by triggers (external content).
CREATE VIRTUAL TABLE messages_fts USING fts5 (
  content,
  content = 'messages',
  content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_after_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_after_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_after_update AFTER UPDATE OF content ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
  INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;

CREATE TABLE memories (
  user_id                     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  summary                     TEXT    NOT NULL DEFAULT '',
  facts                       TEXT    NOT NULL DEFAULT '[]',
  last_summarized_message_id  INTEGER NOT NULL DEFAULT 0,
  version                     INTEGER NOT NULL,
  updated_at                  INTEGER NOT NULL
);

CREATE TABLE payments (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  charge_id           TEXT    NOT NULL UNIQUE CHECK (length(CAST(charge_id AS BLOB)) BETWEEN 1 AND 255),
  provider_charge_id  TEXT,
  user_id             INTEGER NOT NULL REFERENCES users (id),
  currency            TEXT    NOT NULL,
  amount              INTEGER NOT NULL,
  plan                TEXT    NOT NULL,
  days                INTEGER NOT NULL CHECK (days > 0),
  status              TEXT    NOT NULL CHECK (status IN ('paid', 'refunded')),
  created_at          INTEGER NOT NULL,
  refunded_at         INTEGER
);
CREATE INDEX payments_user_id_idx ON payments (user_id, id);

CREATE TABLE admins (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  username       TEXT    NOT NULL UNIQUE,
  password_hash  TEXT    NOT NULL,
  created_at     INTEGER NOT NULL
);

CREATE TABLE audit_log (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,
  admin_id    INTEGER REFERENCES admins (id),
  action      TEXT    NOT NULL,
  target      TEXT    NOT NULL DEFAULT '',
  details     TEXT    NOT NULL DEFAULT '{}',
  created_at  INTEGER NOT NULL
);

CREATE TABLE jobs (
  id                INTEGER PRIMARY KEY AUTOINCREMENT,
  kind              TEXT    NOT NULL,
  payload           TEXT    NOT NULL DEFAULT '',
  dedupe_key        TEXT,
  status            TEXT    NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempts          INTEGER NOT NULL DEFAULT 0,
  run_after         INTEGER NOT NULL,
  lease_owner       TEXT,
  lease_expires_at  INTEGER,
  last_error        TEXT,
  created_at        INTEGER NOT NULL,
  updated_at        INTEGER NOT NULL
);
CREATE INDEX jobs_due_idx ON jobs (status, run_after);
CREATE UNIQUE INDEX jobs_dedupe_key_idx ON jobs (dedupe_key) WHERE status IN ('pending', 'running');

CREATE TABLE leases (
  name        TEXT    PRIMARY KEY,
  owner       TEXT    NOT NULL,
  expires_at  INTEGER NOT NULL
);

CREATE TABLE kv (
  key         TEXT    PRIMARY KEY,
  value       TEXT    NOT NULL,
  updated_at  INTEGER NOT NULL
);

CREATE TABLE telegram_updates (
  update_id     INTEGER PRIMARY KEY,
  processed_at  INTEGER NOT NULL
);
CREATE INDEX telegram_updates_processed_at_idx ON telegram_updates (processed_at);
