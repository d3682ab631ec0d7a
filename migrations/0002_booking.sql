-- The booking engine: Vapi webhook secrets, providers (calendars), services, contacts,
-- appointments (a hold is an appointment in status 'held') and tool-call idempotency.

ALTER TABLE orgs ADD COLUMN hold_minutes INTEGER NOT NULL DEFAULT 10;
ALTER TABLE orgs ADD COLUMN require_verification INTEGER NOT NULL DEFAULT 0;

-- The secret is kept encrypted (to show it in Settings) and as a SHA-256 lookup key (so a
-- presented secret finds its org without decrypting every row). A rotated secret keeps
-- working until retired_at.
CREATE TABLE vapi_secrets (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    lookup     TEXT    NOT NULL UNIQUE,
    secret_enc BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
);
CREATE INDEX vapi_secrets_org ON vapi_secrets(org_id);

CREATE TABLE providers (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    name       TEXT    NOT NULL,
    active     INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE services (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES orgs(id),
    name             TEXT    NOT NULL COLLATE NOCASE,
    duration_minutes INTEGER NOT NULL CHECK (duration_minutes BETWEEN 5 AND 720),
    price_cents      INTEGER NOT NULL CHECK (price_cents >= 0),
    keywords_json    TEXT    NOT NULL DEFAULT '[]',
    active           INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE contacts (
    id         INTEGER PRIMARY KEY,
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    phone      TEXT    NOT NULL,
    name       TEXT,
    email      TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (org_id, phone)
);

CREATE TABLE appointments (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    provider_id     INTEGER NOT NULL REFERENCES providers(id),
    service_id      INTEGER NOT NULL REFERENCES services(id),
    contact_id      INTEGER NOT NULL REFERENCES contacts(id),
    start_at        INTEGER NOT NULL,
    end_at          INTEGER NOT NULL CHECK (end_at > start_at),
    status          TEXT    NOT NULL CHECK (status IN ('held', 'expired', 'confirmed', 'cancelled', 'completed', 'no_show')),
    hold_expires_at INTEGER,
    verified_at     INTEGER,
    source          TEXT    NOT NULL CHECK (source IN ('phone_ai', 'staff')),
    notes           TEXT,
    call_id         TEXT,
    cancel_reason   TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- The backstop behind the overlap check: never two live bookings at one start on one calendar.
CREATE UNIQUE INDEX appointments_live_slot
    ON appointments(org_id, provider_id, start_at) WHERE status IN ('held', 'confirmed');
CREATE INDEX appointments_org_start ON appointments(org_id, start_at);
CREATE INDEX appointments_contact ON appointments(org_id, contact_id, start_at);
CREATE INDEX appointments_live ON appointments(org_id, provider_id, status, start_at);
CREATE INDEX appointments_held_expiry ON appointments(org_id, hold_expires_at) WHERE status = 'held';

-- One stored reply per tool call, so a retried or duplicated call acts once.
CREATE TABLE tool_results (
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    tool_call_id TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    is_error     INTEGER NOT NULL,
    sentence     TEXT    NOT NULL,
    data_json    TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (org_id, tool_call_id)
);
CREATE INDEX tool_results_created ON tool_results(created_at);
