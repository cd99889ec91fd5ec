-- Full-text search per user. Each message's search vector now also holds its owner as the lexeme
-- '@<user_id>' (a lexeme the 'simple' parser never makes from typed text), and searches match
-- `'@42' & (words)`. The GIN index then answers "this user's messages with these words" itself:
-- its fast scan walks the owner's short posting list and skips through the words' long ones, so
-- the cost follows the user's messages, not everyone's. (Before, a query of common words could
-- be planned as a scan of every match in the table, intersected with the user's rows.)
-- Ranking and snippets still use the typed words only.

ALTER TABLE messages DROP COLUMN search;
ALTER TABLE messages ADD COLUMN search tsvector GENERATED ALWAYS AS
  (to_tsvector('simple', content) || array_to_tsvector(ARRAY['@' || user_id::text])) STORED;
-- fastupdate off: new messages go straight into the index. With a pending list, every search
-- scanned all entries added since the last vacuum, and a busy chat made searches slower by the
-- second (50 ms per relevant-past read after a minute of load).
CREATE INDEX messages_search_idx ON messages USING gin (search) WITH (fastupdate = off);
