-- Initial schema of the PostgreSQL engine. Times are timestamptz; usage days are UTC dates.

CREATE TABLE users (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  telegram_id    bigint      NOT NULL UNIQUE,
  first_name     text        NOT NULL DEFAULT '',
  last_name      text,
  username       text,
  language_code  text,
  settings       jsonb       NOT NULL DEFAULT '{}',
  is_banned      boolean     NOT NULL DEFAULT false,
  premium_until  timestamptz,
  usage_day      date,
  usage_count    bigint      NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL
);
CREATE INDEX users_premium_until_idx ON users (premium_until);

CREATE TABLE messages (
  id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  user_id            bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role               text        NOT NULL CHECK (role IN ('user', 'assistant')),
  content            text        NOT NULL,
  has_image          boolean     NOT NULL DEFAULT false,
  tokens             bigint      NOT NULL DEFAULT 0,
  status             text        NOT NULL DEFAULT 'complete' CHECK (status IN ('pending', 'complete', 'failed')),
  client_message_id  text        CHECK (octet_length(client_message_id) BETWEEN 1 AND 64),
  reply_to_id        bigint,
  created_at         timestamptz NOT NULL,
  search             tsvector    GENERATED ALWAYS AS (to_tsvector('simple', content)) STORED
);
CREATE INDEX messages_user_id_idx ON messages (user_id, id);
CREATE UNIQUE INDEX messages_user_client_id_idx ON messages (user_id, client_message_id);
CREATE INDEX messages_reply_to_idx ON messages (user_id, reply_to_id) WHERE reply_to_id IS NOT NULL;
CREATE INDEX messages_created_at_idx ON messages (created_at);
CREATE INDEX messages_search_idx ON messages USING gin (search);

CREATE TABLE memories (
  user_id                     bigint      PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  summary                     text        NOT NULL DEFAULT '',
  facts                       jsonb       NOT NULL DEFAULT '[]',
  last_summarized_message_id  bigint      NOT NULL DEFAULT 0,
  version                     bigint      NOT NULL,
  updated_at                  timestamptz NOT NULL
);

CREATE TABLE payments (
  id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  charge_id           text        NOT NULL UNIQUE CHECK (octet_length(charge_id) BETWEEN 1 AND 255),
  provider_charge_id  text,
  user_id             bigint      NOT NULL REFERENCES users (id),
  currency            text        NOT NULL,
  amount              bigint      NOT NULL,
  plan                text        NOT NULL,
  days                bigint      NOT NULL CHECK (days > 0),
  status              text        NOT NULL CHECK (status IN ('paid', 'refunded')),
  created_at          timestamptz NOT NULL,
  refunded_at         timestamptz
);
CREATE INDEX payments_user_id_idx ON payments (user_id, id);

CREATE TABLE admins (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username       text        NOT NULL UNIQUE,
  password_hash  text        NOT NULL,
  created_at     timestamptz NOT NULL
);

CREATE TABLE audit_log (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  admin_id    bigint REFERENCES admins (id),
  action      text        NOT NULL,
  target      text        NOT NULL DEFAULT '',
  details     text        NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL
);

CREATE TABLE jobs (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind              text        NOT NULL,
  payload           text        NOT NULL DEFAULT '',
  dedupe_key        text,
  status            text        NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
  attempts          bigint      NOT NULL DEFAULT 0,
  run_after         timestamptz NOT NULL,
  lease_owner       text,
  lease_expires_at  timestamptz,
  last_error        text,
  created_at        timestamptz NOT NULL,
  updated_at        timestamptz NOT NULL
);
CREATE INDEX jobs_due_idx ON jobs (status, run_after);
CREATE UNIQUE INDEX jobs_dedupe_key_idx ON jobs (dedupe_key) WHERE status IN ('pending', 'running');

CREATE TABLE leases (
  name        text        PRIMARY KEY,
  owner       text        NOT NULL,
  expires_at  timestamptz NOT NULL
);

CREATE TABLE kv (
  key         text        PRIMARY KEY,
  value       text        NOT NULL,
  updated_at  timestamptz NOT NULL
);

CREATE TABLE telegram_updates (
  update_id     bigint      PRIMARY KEY,
  processed_at  timestamptz NOT NULL
);
CREATE INDEX telegram_updates_processed_at_idx ON telegram_updates (processed_at);
