-- A text left mid-send (`sending`) is looked up on the clinic's Twilio account before anything
-- is decided. The lookup matches texts created at or after the claim, so the claim's instant is
-- kept; `reconcile_at` is when the next lookup is due and `reconcile_tries` how many failed.
ALTER TABLE outbox ADD COLUMN claimed_at INTEGER;
ALTER TABLE outbox ADD COLUMN reconcile_at INTEGER;
ALTER TABLE outbox ADD COLUMN reconcile_tries INTEGER NOT NULL DEFAULT 0;
-- Rows already mid-send were claimed when they were last updated.
UPDATE outbox SET claimed_at = updated_at, reconcile_at = updated_at WHERE status = 'sending';
CREATE INDEX outbox_reconcile ON outbox(reconcile_at) WHERE status = 'sending';
