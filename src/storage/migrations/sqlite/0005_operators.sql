-- The operators' API: one row per model call of a chat turn (tokens, latency, outcome), a daily
-- rollup of the statistics for finished days ('YYYY-MM-DD', UTC), and indexes that keep a day
-- range of the statistics cheap.

CREATE TABLE model_calls (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id        INTEGER NOT NULL,
  ok             INTEGER NOT NULL,
  input_tokens   INTEGER NOT NULL DEFAULT 0,
  output_tokens  INTEGER NOT NULL DEFAULT 0,
  latency_ms     INTEGER NOT NULL CHECK (latency_ms >= 0),
  created_at     INTEGER NOT NULL
);
CREATE INDEX model_calls_created_at_idx ON model_calls (created_at);

CREATE TABLE daily_stats (
  day             TEXT    PRIMARY KEY,
  messages        INTEGER NOT NULL,
  active_users    INTEGER NOT NULL,
  new_users       INTEGER NOT NULL,
  stars_revenue   INTEGER NOT NULL,
  tokens_in       INTEGER NOT NULL,
  tokens_out      INTEGER NOT NULL,
  model_errors    INTEGER NOT NULL,
  p95_latency_ms  INTEGER,
  computed_at     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX users_created_at_idx ON users (created_at);
CREATE INDEX payments_created_at_idx ON payments (created_at);
