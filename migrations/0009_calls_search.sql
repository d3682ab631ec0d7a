-- Calls and leads pages: full-text search over what was said on calls, the indexes their lists
-- need at 100,000 calls per clinic, and the links that share a call's recording for a day.

-- What was said on each call, searchable. External content: the text lives only in `calls`;
-- the index holds tokens and the call's row id, never an org id, so every search joins back to
-- `calls` on org_id. Porter stemming so "appointments" finds "appointment".
CREATE VIRTUAL TABLE calls_fts USING fts5(
    summary, transcript,
    content = 'calls', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
-- A deleted or cleared transcript leaves no tokens behind in the index (retention, privacy).
INSERT INTO calls_fts (calls_fts, rank) VALUES ('secure-delete', 1);

-- Triggers keep the index right whatever writes `calls` (ingest, call-backs, retention,
-- benchmark seeding). Every call has an entry (FTS5 counts documents), even without text.
-- Updates that leave the text as it was (status events) skip the index.
CREATE TRIGGER calls_fts_insert AFTER INSERT ON calls
BEGIN
    INSERT INTO calls_fts (rowid, summary, transcript)
    VALUES (new.id, new.summary, new.transcript);
END;

CREATE TRIGGER calls_fts_update AFTER UPDATE OF summary, transcript ON calls
WHEN old.summary IS NOT new.summary OR old.transcript IS NOT new.transcript
BEGIN
    INSERT INTO calls_fts (calls_fts, rowid, summary, transcript)
    VALUES ('delete', old.id, old.summary, old.transcript);
    INSERT INTO calls_fts (rowid, summary, transcript)
    VALUES (new.id, new.summary, new.transcript);
END;

CREATE TRIGGER calls_fts_delete AFTER DELETE ON calls
BEGIN
    INSERT INTO calls_fts (calls_fts, rowid, summary, transcript)
    VALUES ('delete', old.id, old.summary, old.transcript);
END;

-- Calls stored before this migration.
INSERT INTO calls_fts (calls_fts) VALUES ('rebuild');

-- The calls list: newest first within the org (when, then id), every filter answerable from
-- the index alone, so counting and skipping never read a row and its large transcript. The
-- list names `COALESCE(started_at, created_at)` rather than the generated `occurred_at`:
-- SQLite never treats an index as covering for a query that uses a virtual column.
CREATE INDEX calls_org_list ON calls(org_id, COALESCE(started_at, created_at), id, type,
                                     booked, sentiment, lead_tier, started_at, created_at);

-- The leads list, most recently contacted first.
CREATE INDEX contacts_org_recent ON contacts(org_id, COALESCE(last_contacted_at, created_at));

-- A lead's texts.
CREATE INDEX messages_contact ON messages(org_id, contact_id, created_at)
    WHERE contact_id IS NOT NULL;

-- A call's recording shared for a limited time. Only the SHA-256 of the link's token is kept.
CREATE TABLE recording_shares (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    call_id     INTEGER NOT NULL REFERENCES calls(id),
    token_hash  TEXT    NOT NULL UNIQUE,
    email       TEXT,
    created_by  INTEGER REFERENCES staff(id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX recording_shares_call ON recording_shares(org_id, call_id);
