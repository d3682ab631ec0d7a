-- What an API token may do: read only, or read and change. Tokens made before this could
-- change things, so they keep that; new ones are chosen in Settings → API tokens.
ALTER TABLE api_tokens ADD COLUMN access TEXT NOT NULL DEFAULT 'read_write'
    CHECK (access IN ('read', 'read_write'));
