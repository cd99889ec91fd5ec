-- Daily allowances besides chat messages (e.g. speech): one row per user, counter name and UTC
-- day ('YYYY-MM-DD'), checked and counted up in one statement.

CREATE TABLE daily_counters (
  user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  counter  TEXT    NOT NULL,
  day      TEXT    NOT NULL,
  used     INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (user_id, counter, day)
) WITHOUT ROWID;
CREATE INDEX daily_counters_day_idx ON daily_counters (day);
