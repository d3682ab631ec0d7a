-- Practitioners (the providers table: each is one calendar). A practitioner has a title
-- callers may use ("Hygienist"), weekly hours of their own (NULL: the clinic's; always within
-- them), whole days off, and the services they perform (no row: every service).
ALTER TABLE providers ADD COLUMN title TEXT;
ALTER TABLE providers ADD COLUMN hours_json TEXT;
ALTER TABLE providers ADD COLUMN time_off_json TEXT NOT NULL DEFAULT '[]';

CREATE TABLE provider_services (
    org_id      INTEGER NOT NULL REFERENCES orgs(id),
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    service_id  INTEGER NOT NULL REFERENCES services(id),
    PRIMARY KEY (provider_id, service_id)
) WITHOUT ROWID;
CREATE INDEX provider_services_org ON provider_services(org_id, provider_id);
