-- The operators' API: one row per model call of a chat turn (tokens, latency, outcome), a daily
-- rollup of the statistics for finished days, and indexes that keep a day range of the
-- statistics cheap.

CREATE TABLE model_calls (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id        bigint      NOT NULL,
  ok             boolean     NOT NULL,
  input_tokens   bigint      NOT NULL DEFAULT 0,
  output_tokens  bigint      NOT NULL DEFAULT 0,
  latency_ms     bigint      NOT NULL CHECK (latency_ms >= 0),
  created_at     timestamptz NOT NULL
);
CREATE INDEX model_calls_created_at_idx ON model_calls (created_at);

CREATE TABLE daily_stats (
  day             date        PRIMARY KEY,
  messages        bigint      NOT NULL,
  active_users    bigint      NOT NULL,
  new_users       bigint      NOT NULL,
  stars_revenue   bigint      NOT NULL,
  tokens_in       bigint      NOT NULL,
  tokens_out      bigint      NOT NULL,
  model_errors    bigint      NOT NULL,
  p95_latency_ms  bigint,
  computed_at     timestamptz NOT NULL
);

CREATE INDEX users_created_at_idx ON users (created_at);
CREATE INDEX payments_created_at_idx ON payments (created_at);
