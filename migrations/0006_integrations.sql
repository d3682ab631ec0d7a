-- Integrations: where each clinic's Twilio set-up stands in Vapi (the Twilio credential
-- created there, and the "from" number imported there when the owner asked for it).

-- One row per org once Twilio has been saved from Settings. `status` is 'synced' when Vapi has
-- the current credentials, else 'pending' with `detail` saying why (shown with a retry).
CREATE TABLE vapi_twilio_sync (
    org_id          INTEGER NOT NULL PRIMARY KEY REFERENCES orgs(id),
    import_number   INTEGER NOT NULL DEFAULT 0 CHECK (import_number IN (0, 1)),
    credential_id   TEXT,
    phone_number_id TEXT,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'synced')),
    detail          TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    attempted_at    INTEGER,
    synced_at       INTEGER,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX vapi_twilio_sync_pending ON vapi_twilio_sync(attempted_at) WHERE status = 'pending';

-- Webhooks from Twilio name the account and the clinic's number: this finds the org.
CREATE INDEX twilio_credentials_account ON twilio_credentials(account_sid);
