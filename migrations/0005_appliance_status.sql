-- Appliance-wide facts that belong to no clinic, for the diagnostics and backups pages: the
-- last request that reached the Vapi endpoints, the last scheduled backup attempt. One row
-- per name, overwritten; not a log.
CREATE TABLE appliance_status (
    name   TEXT    PRIMARY KEY,
    at     INTEGER NOT NULL,
    ok     INTEGER NOT NULL,
    detail TEXT    NOT NULL
);
