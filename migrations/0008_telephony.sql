-- Hybrid telephony: the clinic's own numbers proved through Twilio's caller-ID verification,
-- and the carrier call-forwarding set-ups that send their calls to the AI number.

-- One row per org and number. `status` moves pending -> verified | failed | expired; a new start
-- for the same number resets the row to pending. Twilio makes the 6-digit code; only its argon2
-- hash is kept. `validation_call_sid` is Twilio's verification call, `outgoing_caller_id_sid`
-- the PN… resource that exists once the code was entered.
CREATE TABLE caller_ids (
    id                     INTEGER PRIMARY KEY,
    org_id                 INTEGER NOT NULL REFERENCES orgs(id),
    phone_number           TEXT    NOT NULL,
    friendly_name          TEXT    NOT NULL,
    status                 TEXT    NOT NULL
                           CHECK (status IN ('pending', 'verified', 'failed', 'expired')),
    validation_call_sid    TEXT,
    outgoing_caller_id_sid TEXT,
    code_hash              TEXT,
    attempts               INTEGER NOT NULL DEFAULT 0,
    created_at             INTEGER NOT NULL,
    expires_at             INTEGER NOT NULL,
    verified_at            INTEGER,
    updated_at             INTEGER NOT NULL,
    UNIQUE (org_id, phone_number),
    UNIQUE (org_id, id)
);
CREATE INDEX caller_ids_call ON caller_ids(org_id, validation_call_sid);
CREATE INDEX caller_ids_pending ON caller_ids(expires_at) WHERE status = 'pending';

-- Every verification start, for the limit of 3 per number per hour. Kept apart from
-- `caller_ids` so removing and re-adding a number does not reset the count.
CREATE TABLE caller_id_starts (
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    phone_number TEXT    NOT NULL,
    started_at   INTEGER NOT NULL
);
CREATE INDEX caller_id_starts_number ON caller_id_starts(org_id, phone_number, started_at);

-- How a verified number forwards to the AI: carrier, mode and ring time, and the number calls
-- go to (the clinic's Twilio number, imported into Vapi). The codes are derived from these by
-- `domain::forwarding`, never stored. A number has at most one configuration that is not
-- disabled; the caller ID's org must be the configuration's org.
CREATE TABLE forwarding_configs (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    caller_id    INTEGER NOT NULL,
    carrier      TEXT    NOT NULL,
    mode         TEXT    NOT NULL CHECK (mode IN ('total_ai', 'safety_net')),
    ring_seconds INTEGER CHECK (ring_seconds IS NULL OR ring_seconds BETWEEN 5 AND 30),
    forward_to   TEXT    NOT NULL,
    status       TEXT    NOT NULL CHECK (status IN ('pending', 'active', 'disabled')),
    created_at   INTEGER NOT NULL,
    activated_at INTEGER,
    disabled_at  INTEGER,
    updated_at   INTEGER NOT NULL,
    FOREIGN KEY (org_id, caller_id) REFERENCES caller_ids(org_id, id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX forwarding_configs_live ON forwarding_configs(org_id, caller_id)
    WHERE status != 'disabled';
