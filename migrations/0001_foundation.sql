-- Orgs (clinics), their staff, sessions and the append-only audit log.
-- Instants are INTEGER unix seconds, UTC. Every tenant table carries org_id NOT NULL.

CREATE TABLE orgs (
    id                   INTEGER PRIMARY KEY,
    name                 TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    timezone             TEXT    NOT NULL,
    hours_json           TEXT    NOT NULL,
    closures_json        TEXT    NOT NULL DEFAULT '[]',
    buffer_minutes       INTEGER NOT NULL DEFAULT 0,
    slot_minutes         INTEGER NOT NULL DEFAULT 15,
    min_notice_minutes   INTEGER NOT NULL DEFAULT 60,
    horizon_days         INTEGER NOT NULL DEFAULT 60,
    hot_lead_alert_phone TEXT,
    created_at           INTEGER NOT NULL
);

CREATE TABLE staff (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES orgs(id),
    email         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    name          TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'staff')),
    password_hash TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
    created_at    INTEGER NOT NULL
);
CREATE INDEX staff_org ON staff(org_id);

CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    staff_id     INTEGER NOT NULL REFERENCES staff(id),
    token_hash   TEXT    NOT NULL UNIQUE,
    csrf_token   TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    ip           TEXT
);
CREATE INDEX sessions_staff ON sessions(org_id, staff_id);

-- org_id is NULL only for events before anyone is known (a failed login for an unknown email).
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY,
    org_id   INTEGER REFERENCES orgs(id),
    staff_id INTEGER,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    object   TEXT    NOT NULL DEFAULT '',
    detail   TEXT    NOT NULL DEFAULT '',
    ip       TEXT,
    at       INTEGER NOT NULL
);
CREATE INDEX audit_log_org_at ON audit_log(org_id, at);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
