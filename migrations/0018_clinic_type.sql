-- What kind of clinic an org is (asked at setup; it chose the starting catalogue), and when an
-- owner last said the services catalogue is right. Until then the voice tools quote no price.
-- A clinic set up before the question existed has no type, and its catalogue counts as reviewed
-- from its creation: its assistant was already quoting those prices, and keeps doing so.
ALTER TABLE orgs ADD COLUMN clinic_type TEXT
    CHECK (clinic_type IN ('dental', 'aesthetics', 'plastic-surgery', 'dermatology',
                           'physiotherapy', 'general-practice', 'other'));
ALTER TABLE orgs ADD COLUMN catalogue_reviewed_at INTEGER;
UPDATE orgs SET catalogue_reviewed_at = created_at;
