-- Running figures kept by triggers on `calls`, so the overview and /api/dashboard/stats read a
-- handful of rows instead of aggregating every call a clinic ever had.

-- All-time figures per org.
CREATE TABLE call_totals (
    org_id          INTEGER NOT NULL PRIMARY KEY REFERENCES orgs(id),
    inbound         INTEGER NOT NULL DEFAULT 0,
    booked_inbound  INTEGER NOT NULL DEFAULT 0,
    value_cents     INTEGER NOT NULL DEFAULT 0,
    duration_ms_sum INTEGER NOT NULL DEFAULT 0,
    -- Calls with a known duration (the average's divisor).
    durations       INTEGER NOT NULL DEFAULT 0
);

-- Services asked about, per org, per 15-minute period of `COALESCE(started_at, created_at)`
-- (store::overview::BUCKET_SECS): every zone's local midnight falls on such a boundary.
CREATE TABLE call_service_buckets (
    org_id  INTEGER NOT NULL REFERENCES orgs(id),
    bucket  INTEGER NOT NULL,
    service TEXT    NOT NULL,
    calls   INTEGER NOT NULL,
    PRIMARY KEY (org_id, bucket, service)
) WITHOUT ROWID;

INSERT INTO call_totals (org_id, inbound, booked_inbound, value_cents, duration_ms_sum, durations)
SELECT org_id, SUM(type = 'inbound'), SUM(type = 'inbound' AND booked = 1), SUM(value_cents),
       COALESCE(SUM(duration_ms), 0), COUNT(duration_ms)
FROM calls GROUP BY org_id;

INSERT INTO call_service_buckets (org_id, bucket, service, calls)
SELECT c.org_id, COALESCE(c.started_at, c.created_at) / 900 * 900, j.value, COUNT(*)
FROM calls c, json_each(c.services_json) j
WHERE j.type = 'text'
GROUP BY 1, 2, 3;

CREATE TRIGGER calls_rollup_insert AFTER INSERT ON calls BEGIN
    INSERT INTO call_totals (org_id) VALUES (NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    UPDATE call_totals SET
        inbound = inbound + (NEW.type = 'inbound'),
        booked_inbound = booked_inbound + (NEW.type = 'inbound' AND NEW.booked = 1),
        value_cents = value_cents + NEW.value_cents,
        duration_ms_sum = duration_ms_sum + COALESCE(NEW.duration_ms, 0),
        durations = durations + (NEW.duration_ms IS NOT NULL)
    WHERE org_id = NEW.org_id;
    INSERT INTO call_service_buckets (org_id, bucket, service, calls)
        SELECT NEW.org_id, COALESCE(NEW.started_at, NEW.created_at) / 900 * 900, j.value, 1
        FROM json_each(NEW.services_json) j WHERE j.type = 'text'
        ON CONFLICT (org_id, bucket, service) DO UPDATE SET calls = calls + 1;
END;

CREATE TRIGGER calls_rollup_delete AFTER DELETE ON calls BEGIN
    UPDATE call_totals SET
        inbound = inbound - (OLD.type = 'inbound'),
        booked_inbound = booked_inbound - (OLD.type = 'inbound' AND OLD.booked = 1),
        value_cents = value_cents - OLD.value_cents,
        duration_ms_sum = duration_ms_sum - COALESCE(OLD.duration_ms, 0),
        durations = durations - (OLD.duration_ms IS NOT NULL)
    WHERE org_id = OLD.org_id;
    UPDATE call_service_buckets SET calls = calls - (
            SELECT COUNT(*) FROM json_each(OLD.services_json) j
            WHERE j.type = 'text' AND j.value = call_service_buckets.service)
    WHERE org_id = OLD.org_id
      AND bucket = COALESCE(OLD.started_at, OLD.created_at) / 900 * 900
      AND service IN (SELECT j.value FROM json_each(OLD.services_json) j WHERE j.type = 'text');
    DELETE FROM call_service_buckets
    WHERE org_id = OLD.org_id AND bucket = COALESCE(OLD.started_at, OLD.created_at) / 900 * 900
      AND calls <= 0;
END;

CREATE TRIGGER calls_rollup_update
AFTER UPDATE OF org_id, type, booked, value_cents, duration_ms, services_json, started_at,
                created_at ON calls
BEGIN
    UPDATE call_totals SET
        inbound = inbound - (OLD.type = 'inbound'),
        booked_inbound = booked_inbound - (OLD.type = 'inbound' AND OLD.booked = 1),
        value_cents = value_cents - OLD.value_cents,
        duration_ms_sum = duration_ms_sum - COALESCE(OLD.duration_ms, 0),
        durations = durations - (OLD.duration_ms IS NOT NULL)
    WHERE org_id = OLD.org_id;
    INSERT INTO call_totals (org_id) VALUES (NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    UPDATE call_totals SET
        inbound = inbound + (NEW.type = 'inbound'),
        booked_inbound = booked_inbound + (NEW.type = 'inbound' AND NEW.booked = 1),
        value_cents = value_cents + NEW.value_cents,
        duration_ms_sum = duration_ms_sum + COALESCE(NEW.duration_ms, 0),
        durations = durations + (NEW.duration_ms IS NOT NULL)
    WHERE org_id = NEW.org_id;
    UPDATE call_service_buckets SET calls = calls - (
            SELECT COUNT(*) FROM json_each(OLD.services_json) j
            WHERE j.type = 'text' AND j.value = call_service_buckets.service)
    WHERE org_id = OLD.org_id
      AND bucket = COALESCE(OLD.started_at, OLD.created_at) / 900 * 900
      AND service IN (SELECT j.value FROM json_each(OLD.services_json) j WHERE j.type = 'text');
    INSERT INTO call_service_buckets (org_id, bucket, service, calls)
        SELECT NEW.org_id, COALESCE(NEW.started_at, NEW.created_at) / 900 * 900, j.value, 1
        FROM json_each(NEW.services_json) j WHERE j.type = 'text'
        ON CONFLICT (org_id, bucket, service) DO UPDATE SET calls = calls + 1;
    DELETE FROM call_service_buckets
    WHERE org_id = OLD.org_id AND bucket = COALESCE(OLD.started_at, OLD.created_at) / 900 * 900
      AND calls <= 0;
END;
