-- A tool reply that reports on a text (a booking's confirmation, a verification code) is
-- stored in the same transaction as the action, before the text's first attempt. It keeps
-- the text's outbox id and one wording per outcome of that text, so a retry of the same tool
-- call answers with the wording that matches what became of the text by then.
ALTER TABLE tool_results ADD COLUMN text_outbox_id INTEGER;
ALTER TABLE tool_results ADD COLUMN wordings_json TEXT;
