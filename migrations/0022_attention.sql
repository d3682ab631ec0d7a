-- Needs attention: the front desk's worklist. One item per call that needs someone (why, as
-- reason slugs) and per text a patient sent; marked done by a member of staff, with a note.
CREATE TABLE attention_items (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    call_id     INTEGER REFERENCES calls(id),
    message_id  INTEGER REFERENCES messages(id),
    reasons     TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    done_at     INTEGER,
    done_by     TEXT,
    note        TEXT    NOT NULL DEFAULT '',
    CHECK ((call_id IS NULL) <> (message_id IS NULL))
);
CREATE UNIQUE INDEX attention_items_call ON attention_items(org_id, call_id) WHERE call_id IS NOT NULL;
CREATE UNIQUE INDEX attention_items_message ON attention_items(org_id, message_id) WHERE message_id IS NOT NULL;
CREATE INDEX attention_items_open ON attention_items(org_id, at) WHERE done_at IS NULL;
