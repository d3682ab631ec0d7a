-- Calls waiting to be put into the full-text index. Indexing a long transcript inside each
-- event's savepoint made SQLite's FTS5 write a new index segment per event; instead a call
-- written in a batch is queued here and the writer indexes the whole queue once, just before
-- the batch commits (store::search_index), so a call is searchable as soon as it is saved.
-- A row here means: this call has no entry in `calls_fts` yet.
CREATE TABLE search_queue (
    call_id INTEGER PRIMARY KEY,
    org_id  INTEGER NOT NULL REFERENCES orgs(id)
);

DROP TRIGGER calls_fts_insert;
DROP TRIGGER calls_fts_update;
DROP TRIGGER calls_fts_delete;

CREATE TRIGGER calls_search_insert AFTER INSERT ON calls
BEGIN
    INSERT OR IGNORE INTO search_queue (call_id, org_id) VALUES (new.id, new.org_id);
END;

-- Changed text: an indexed call loses its old entry (the exact old text, as external-content
-- FTS5 requires) and is queued again; a queued one is indexed with its latest text anyway.
CREATE TRIGGER calls_search_update AFTER UPDATE OF summary, transcript ON calls
WHEN old.summary IS NOT new.summary OR old.transcript IS NOT new.transcript
BEGIN
    INSERT INTO calls_fts (calls_fts, rowid, summary, transcript)
        SELECT 'delete', old.id, old.summary, old.transcript
        WHERE NOT EXISTS (SELECT 1 FROM search_queue WHERE call_id = old.id);
    INSERT OR IGNORE INTO search_queue (call_id, org_id) VALUES (new.id, new.org_id);
END;

CREATE TRIGGER calls_search_delete AFTER DELETE ON calls
BEGIN
    INSERT INTO calls_fts (calls_fts, rowid, summary, transcript)
        SELECT 'delete', old.id, old.summary, old.transcript
        WHERE NOT EXISTS (SELECT 1 FROM search_queue WHERE call_id = old.id);
    DELETE FROM search_queue WHERE call_id = old.id;
END;

-- Secure delete rewrote index pages on every flush, most of the cost of indexing a call; it is
-- now switched on only while retention clears text (store::search_index::securely), which is
-- when removed words must leave the file.
INSERT INTO calls_fts (calls_fts, rank) VALUES ('secure-delete', 0);
