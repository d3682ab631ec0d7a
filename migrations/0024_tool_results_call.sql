-- Which call a tool reply belongs to, so a call's page can show what the assistant did during
-- it, in order. Replies stored before this have none.
ALTER TABLE tool_results ADD COLUMN vapi_call_id TEXT;
CREATE INDEX tool_results_call ON tool_results(org_id, vapi_call_id) WHERE vapi_call_id IS NOT NULL;
