-- One place for the org's Vapi ids: `orgs.vapi_assistant_id` (Settings → Voice agent) is also
-- the assistant the tools are linked to, and a number imported into Vapi becomes the number
-- call-backs dial from unless one was chosen. `vapi_tool_sync.assistant_id` is no longer read.
UPDATE orgs SET vapi_assistant_id =
    (SELECT s.assistant_id FROM vapi_tool_sync s WHERE s.org_id = orgs.id)
WHERE vapi_assistant_id IS NULL
  AND EXISTS (SELECT 1 FROM vapi_tool_sync s
              WHERE s.org_id = orgs.id AND s.assistant_id IS NOT NULL);

UPDATE orgs SET vapi_phone_number_id =
    (SELECT s.phone_number_id FROM vapi_twilio_sync s WHERE s.org_id = orgs.id)
WHERE vapi_phone_number_id IS NULL
  AND EXISTS (SELECT 1 FROM vapi_twilio_sync s
              WHERE s.org_id = orgs.id AND s.phone_number_id IS NOT NULL);
