-- One-time links an owner gives a member of staff to choose a new password (Settings →
-- Staff → Reset password). Only the SHA-256 of the link's token is kept; a link works once,
-- for 24 hours. Removed accounts are kept (their name stays in the audit log and on what they
-- made) but can no longer sign in, and free their e-mail address.
CREATE TABLE password_resets (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    staff_id    INTEGER NOT NULL REFERENCES staff(id),
    token_hash  TEXT    NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER
);
CREATE INDEX password_resets_staff ON password_resets(org_id, staff_id);
ALTER TABLE staff ADD COLUMN removed_at INTEGER;
