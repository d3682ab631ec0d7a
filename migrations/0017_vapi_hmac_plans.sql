-- How each org's Vapi HMAC credential signs its requests (Settings → Voice agent): the options
-- of Vapi's HMAC authentication plan that change what arrives. Header names are lowercase; an
-- empty prefix is none. An org without a row gets Vapi's defaults (sha256, `x-timestamp`
-- signed, `x-signature`, hex, no prefix).
CREATE TABLE vapi_hmac_plans (
    org_id             INTEGER NOT NULL PRIMARY KEY REFERENCES orgs(id),
    algorithm          TEXT    NOT NULL CHECK (algorithm IN ('sha256', 'sha512', 'sha1')),
    include_timestamp  INTEGER NOT NULL CHECK (include_timestamp IN (0, 1)),
    timestamp_header   TEXT    NOT NULL,
    signature_header   TEXT    NOT NULL,
    signature_encoding TEXT    NOT NULL CHECK (signature_encoding IN ('hex', 'base64')),
    signature_prefix   TEXT    NOT NULL,
    updated_at         INTEGER NOT NULL
);
