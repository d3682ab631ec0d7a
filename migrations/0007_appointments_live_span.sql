-- The overlap check and the free-time reads look at every live booking of a calendar that
-- starts in the window before a slot, and need its end (and a hold's expiry). With both in the
-- index those reads never visit the table rows.
DROP INDEX appointments_live;
CREATE INDEX appointments_live
    ON appointments(org_id, provider_id, status, start_at, end_at, hold_expires_at);
