-- Integrations: where each clinic's Twilio set-up stands in Vapi (the Twilio credential
-- created there, and the "from" number imported there when the owner asked for it), and the
-- tools registered with Vapi for the clinic's assistant.

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

-- Tool registration with Vapi, per org: the assistant the tools are linked to, and how the
-- last sync went. `running` is the claim that keeps two syncs of one org from overlapping.
CREATE TABLE vapi_tool_sync (
    org_id       INTEGER NOT NULL PRIMARY KEY REFERENCES orgs(id),
    assistant_id TEXT,
    status       TEXT    NOT NULL DEFAULT 'never'
                 CHECK (status IN ('never', 'running', 'synced', 'failed')),
    detail       TEXT,
    -- Calendar tools found on the assistant: they book without the appliance.
    native_tools TEXT,
    started_at   INTEGER,
    finished_at  INTEGER,
    updated_at   INTEGER NOT NULL
);

-- Each tool registered in Vapi for an org: Vapi's id, the SHA-256 of the definition the code
-- gave it, and of the server part (URL and secret), so only what changed is sent again.
CREATE TABLE vapi_tools (
    org_id            INTEGER NOT NULL REFERENCES orgs(id),
    name              TEXT    NOT NULL,
    vapi_id           TEXT    NOT NULL,
    definition_sha256 TEXT    NOT NULL,
    server_sha256     TEXT    NOT NULL,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (org_id, name)
);
