-- Messaging: each clinic's Twilio credentials, the outbox of texts to send, the `messages`
-- record of every attempt (and, later, inbound texts), the opt-out list and caller
-- verification codes.

-- Texts can be switched off per clinic; reminders go out this many hours ahead (0 = none).
ALTER TABLE orgs ADD COLUMN sms_enabled INTEGER NOT NULL DEFAULT 1 CHECK (sms_enabled IN (0, 1));
ALTER TABLE orgs ADD COLUMN reminder_hours INTEGER NOT NULL DEFAULT 24 CHECK (reminder_hours BETWEEN 0 AND 168);

-- Three wrong codes lock a hold: it can no longer be verified or booked.
ALTER TABLE appointments ADD COLUMN verify_locked_at INTEGER;

-- One set of credentials per org. The secret (auth token, or API key secret when key_sid is
-- set) is sealed by the vault with the org and this row in its associated data.
CREATE TABLE twilio_credentials (
    org_id                INTEGER NOT NULL PRIMARY KEY REFERENCES orgs(id),
    account_sid           TEXT    NOT NULL,
    key_sid               TEXT,
    secret_enc            BLOB    NOT NULL,
    secret_last4          TEXT    NOT NULL,
    from_number           TEXT,
    messaging_service_sid TEXT,
    updated_at            INTEGER NOT NULL,
    CHECK (from_number IS NOT NULL OR messaging_service_sid IS NOT NULL)
);

-- A text to send, written in the same transaction as the change that causes it. A sensitive
-- body (a verification code) is kept only sealed in body_enc until sent; `body` then holds
-- the masked text.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    purpose         TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    body_enc        BLOB,
    contact_id      INTEGER REFERENCES contacts(id),
    appointment_id  INTEGER REFERENCES appointments(id),
    call_id         TEXT,
    dedupe_key      TEXT,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped', 'refused',
                                      'superseded', 'cancelled', 'interrupted')),
    send_after      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    provider_sid    TEXT,
    error_code      INTEGER,
    detail          TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- A dedupe key (hot-lead alert per call, reminder per appointment start) is used once while
-- its row is live.
CREATE UNIQUE INDEX outbox_dedupe ON outbox(org_id, dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status NOT IN ('superseded', 'cancelled');
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_appointment ON outbox(org_id, appointment_id) WHERE appointment_id IS NOT NULL;

-- Every attempt to send, and every text received: the clinic's record of its messaging.
CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    outbox_id      INTEGER REFERENCES outbox(id),
    contact_id     INTEGER REFERENCES contacts(id),
    appointment_id INTEGER REFERENCES appointments(id),
    call_id        TEXT,
    direction      TEXT    NOT NULL CHECK (direction IN ('outbound', 'inbound')),
    method         TEXT    NOT NULL DEFAULT 'sms',
    purpose        TEXT,
    recipient      TEXT    NOT NULL,
    sender         TEXT,
    body           TEXT    NOT NULL,
    segments       INTEGER,
    status         TEXT    NOT NULL,
    provider_sid   TEXT,
    error_code     INTEGER,
    error_message  TEXT,
    attempt        INTEGER,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
CREATE INDEX messages_org_created ON messages(org_id, created_at);
CREATE INDEX messages_recipient ON messages(org_id, recipient, created_at);
CREATE INDEX messages_provider_sid ON messages(provider_sid) WHERE provider_sid IS NOT NULL;

-- Numbers that must not be texted (STOP, or Twilio's 21610).
CREATE TABLE sms_opt_outs (
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    phone      TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, phone)
);

-- A code texted to the caller to confirm a hold; only its argon2 hash is kept.
CREATE TABLE verification_codes (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES orgs(id),
    appointment_id INTEGER NOT NULL REFERENCES appointments(id),
    phone          TEXT    NOT NULL,
    code_hash      TEXT    NOT NULL,
    expires_at     INTEGER NOT NULL,
    wrong_attempts INTEGER NOT NULL DEFAULT 0,
    used_at        INTEGER,
    created_at     INTEGER NOT NULL
);
CREATE INDEX verification_codes_hold ON verification_codes(org_id, appointment_id, id);
CREATE INDEX verification_codes_phone ON verification_codes(org_id, phone, created_at);
