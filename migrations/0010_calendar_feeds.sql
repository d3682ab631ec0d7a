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

-- The overview and /api/dashboard/stats aggregate calls by period, type, outcome and tier.
-- Call rows carry transcripts, so a scan of the table reads every page of text; this covering
-- index lets those GROUP BYs read only the small columns.
CREATE INDEX calls_org_figures ON calls(org_id, occurred_at, type, booked, value_cents, duration_ms, services_json);

