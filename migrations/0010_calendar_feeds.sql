-- Calendar subscriptions and the overview's aggregates.

-- A private, revocable iCalendar subscription URL per calendar (provider). Only the SHA-256 of
-- the URL's token is kept; a calendar has at most one live feed (a new one replaces it).
CREATE TABLE calendar_feeds (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    token_hash  TEXT    NOT NULL UNIQUE,
    created_by  INTEGER NOT NULL REFERENCES staff(id),
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
CREATE UNIQUE INDEX calendar_feeds_live ON calendar_feeds(org_id, provider_id) WHERE revoked_at IS NULL;

-- The overview and /api/dashboard/stats aggregate calls by period, type and outcome. Call rows
-- carry transcripts, so reading the rows means reading pages of text; this covering index lets
-- those GROUP BYs read only the small columns. It is on the expression behind `occurred_at`
-- (queries spell it out), because SQLite never treats an index on a virtual generated column
-- as covering.
CREATE INDEX calls_org_figures ON calls(org_id, COALESCE(started_at, created_at), type, booked,
    value_cents, duration_ms, services_json, started_at, created_at);

