-- Call intelligence: the voice agent's call settings, raw Vapi call events, calls with their
-- analysis and lead score, the lead side of contacts, and API tokens for the JSON API.

-- Settings → Voice agent: what to answer `assistant-request` and `transfer-destination-request`
-- with, what call-backs use, and when a call counts as a hot lead worth a text to the owner.
ALTER TABLE orgs ADD COLUMN vapi_assistant_id TEXT;
ALTER TABLE orgs ADD COLUMN vapi_outbound_assistant_id TEXT;
ALTER TABLE orgs ADD COLUMN vapi_phone_number_id TEXT;
ALTER TABLE orgs ADD COLUMN transfer_number TEXT;
ALTER TABLE orgs ADD COLUMN fallback_transfer_number TEXT;
ALTER TABLE orgs ADD COLUMN hot_lead_threshold INTEGER NOT NULL DEFAULT 70
    CHECK (hot_lead_threshold BETWEEN 1 AND 100);

-- The lead side of a contact. lead_score/lead_tier are those of the contact's latest scored call.
ALTER TABLE contacts ADD COLUMN lead_status TEXT NOT NULL DEFAULT 'new'
    CHECK (lead_status IN ('new', 'contacted', 'booked', 'lost'));
ALTER TABLE contacts ADD COLUMN last_contacted_at INTEGER;
ALTER TABLE contacts ADD COLUMN services_json TEXT NOT NULL DEFAULT '[]';
ALTER TABLE contacts ADD COLUMN staff_notes TEXT;
ALTER TABLE contacts ADD COLUMN lead_score INTEGER;
ALTER TABLE contacts ADD COLUMN lead_tier TEXT CHECK (lead_tier IN ('hot', 'warm', 'cold'));
CREATE INDEX contacts_org_tier ON contacts(org_id, lead_tier);

-- Every call event that changes a call, kept before it is processed. `dedupe` is the status for
-- status-update, '' for the one end-of-call-report of a call (its presigned URLs differ between
-- deliveries, so a hash would not spot a repeat) and a body hash for the rest. `body` is the
-- redacted `message` object of an event whose processing failed, kept until the calls job has
-- processed it; a processed event keeps no body.
CREATE TABLE call_events (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    call_id      TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    status       TEXT,
    dedupe       TEXT    NOT NULL,
    received_at  INTEGER NOT NULL,
    processed_at INTEGER,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT,
    body         TEXT,
    UNIQUE (org_id, call_id, type, dedupe)
);
CREATE INDEX call_events_pending ON call_events(id) WHERE processed_at IS NULL;
CREATE INDEX call_events_org_received ON call_events(org_id, received_at);

-- One row per Vapi call. vapi_call_id is NULL only while a call-back waits for Vapi's answer.
-- Money in cents; cost in millionths of a US dollar (Vapi reports fractions of a cent).
CREATE TABLE calls (
    id                   INTEGER PRIMARY KEY,
    org_id               INTEGER NOT NULL REFERENCES orgs(id),
    vapi_call_id         TEXT,
    type                 TEXT    NOT NULL DEFAULT 'unknown'
        CHECK (type IN ('inbound', 'outbound', 'web', 'unknown')),
    status               TEXT    NOT NULL
        CHECK (status IN ('pending', 'scheduled', 'queued', 'ringing', 'in-progress',
                          'forwarding', 'ended', 'failed')),
    customer_number      TEXT,
    clinic_number        TEXT,
    contact_id           INTEGER REFERENCES contacts(id),
    started_at           INTEGER,
    ended_at             INTEGER,
    duration_ms          INTEGER,
    ended_reason         TEXT,
    cost_micros          INTEGER,
    summary              TEXT,
    transcript           TEXT,
    messages_json        TEXT,
    recording_url        TEXT,
    stereo_recording_url TEXT,
    recording_status     TEXT
        CHECK (recording_status IN ('pending', 'processing', 'completed', 'failed')),
    transfer_to          TEXT,
    transfer_at          INTEGER,
    transfer_reason      TEXT,
    sentiment            TEXT CHECK (sentiment IN ('positive', 'neutral', 'negative')),
    sentiment_score      REAL,
    booked               INTEGER NOT NULL DEFAULT 0 CHECK (booked IN (0, 1)),
    appointment_id       INTEGER REFERENCES appointments(id),
    value_cents          INTEGER NOT NULL DEFAULT 0,
    services_json        TEXT    NOT NULL DEFAULT '[]',
    lead_score           INTEGER CHECK (lead_score BETWEEN 0 AND 100),
    lead_tier            TEXT CHECK (lead_tier IN ('hot', 'warm', 'cold')),
    score_json           TEXT,
    structured_data_json TEXT,
    success_evaluation   TEXT,
    report_received_at   INTEGER,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    -- When the call happened, for lists and periods: its start once known, else first sight.
    occurred_at          INTEGER GENERATED ALWAYS AS (COALESCE(started_at, created_at)) VIRTUAL,
    UNIQUE (org_id, vapi_call_id)
);
CREATE INDEX calls_org_occurred ON calls(org_id, occurred_at);
CREATE INDEX calls_org_contact ON calls(org_id, contact_id);

-- Bearer tokens for the JSON API, stored only as SHA-256 hashes.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES orgs(id),
    name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    token_hash   TEXT    NOT NULL UNIQUE,
    created_by   INTEGER NOT NULL REFERENCES staff(id),
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_org ON api_tokens(org_id);

-- "Did this call book?" looks appointments up by the Vapi call id.
CREATE INDEX appointments_call ON appointments(org_id, call_id) WHERE call_id IS NOT NULL;
