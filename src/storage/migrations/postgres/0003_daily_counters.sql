-- Daily allowances besides chat messages (e.g. speech): one row per user, counter name and UTC
-- day, checked and counted up in one statement.

CREATE TABLE daily_counters (
  user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  counter  text   NOT NULL,
  day      date   NOT NULL,
  used     bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (user_id, counter, day)
);
CREATE INDEX daily_counters_day_idx ON daily_counters (day);
