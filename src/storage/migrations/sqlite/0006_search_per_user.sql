-- Full-text search per user. The index now also holds each message's owner as a token
-- ('u' || user_id) in a column of its own, so a search MATCHes `owner : "u42" AND content : (...)`
-- and FTS5 intersects the user's short posting list with the words' lists: the cost follows the
-- user's messages, not everyone's (before, every match in the table was ranked and joined, then
-- all but the user's were thrown away). The owner column weighs nothing in bm25 (see the queries).
-- External content comes from a view so that the owner token is derived, never stored twice.

DROP TRIGGER messages_fts_after_insert;
DROP TRIGGER messages_fts_after_delete;
DROP TRIGGER messages_fts_after_update;
DROP TABLE messages_fts;

CREATE VIEW messages_fts_source AS SELECT id, content, 'u' || user_id AS owner FROM messages;

CREATE VIRTUAL TABLE messages_fts USING fts5 (
  content,
  owner,
  content = 'messages_fts_source',
  content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');

CREATE TRIGGER messages_fts_after_insert AFTER INSERT ON messages BEGIN
  INSERT INTO messages_fts (rowid, content, owner) VALUES (new.id, new.content, 'u' || new.user_id);
END;
CREATE TRIGGER messages_fts_after_delete AFTER DELETE ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content, owner)
    VALUES ('delete', old.id, old.content, 'u' || old.user_id);
END;
CREATE TRIGGER messages_fts_after_update AFTER UPDATE OF content, user_id ON messages BEGIN
  INSERT INTO messages_fts (messages_fts, rowid, content, owner)
    VALUES ('delete', old.id, old.content, 'u' || old.user_id);
  INSERT INTO messages_fts (rowid, content, owner) VALUES (new.id, new.content, 'u' || new.user_id);
END;
