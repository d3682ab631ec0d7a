-- E-mail through the clinic's own mailbox: its submission settings, a patient's channel
-- preference, each appointment's invitation SEQUENCE, and the e-mail outbox.

-- One mailbox per org. The password (an app password) is sealed by the vault with the org and
-- this table in its associated data. The TLS mode is always explicit: 'starttls' (usually
-- port 587) or 'tls' (implicit TLS, usually 465); there is no plaintext mode. `ca_pem` is a
-- private CA the clinic's own mail server is signed by, trusted instead of the public roots.
CREATE TABLE email_settings (
    org_id       INTEGER NOT NULL PRIMARY KEY REFERENCES orgs(id),
    host         TEXT    NOT NULL,
    port         INTEGER NOT NULL CHECK (port BETWEEN 1 AND 65535),
    tls_mode     TEXT    NOT NULL CHECK (tls_mode IN ('starttls', 'tls')),
    username     TEXT    NOT NULL,
    secret_enc   BLOB    NOT NULL,
    from_address TEXT    NOT NULL,
    from_name    TEXT,
    ca_pem       TEXT,
    -- The owners' daily digest: the clinic's local hour it goes at (NULL: no digest), and the
    -- local date of the last one sent.
    digest_hour    INTEGER CHECK (digest_hour BETWEEN 0 AND 23),
    digest_sent_on TEXT,
    updated_at   INTEGER NOT NULL
);

-- How a patient wants to hear from the clinic. E-mail needs an address on the contact.
ALTER TABLE contacts ADD COLUMN channel TEXT NOT NULL DEFAULT 'both'
    CHECK (channel IN ('text', 'email', 'both'));

-- The iCalendar SEQUENCE of the appointment's invitation: raised by every change that is
-- e-mailed (a move, a cancel), so calendars replace the old copy.
ALTER TABLE appointments ADD COLUMN ics_sequence INTEGER NOT NULL DEFAULT 0;

-- An e-mail to send, written in the same transaction as the change that causes it, rendered
-- whole (subject, both parts, the invitation) so that what goes out is what the change said.
CREATE TABLE email_outbox (
    id              INTEGER PRIMARY KEY,
    org_id          INTEGER NOT NULL REFERENCES orgs(id),
    purpose         TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    subject         TEXT    NOT NULL,
    text_body       TEXT    NOT NULL,
    html_body       TEXT    NOT NULL,
    -- 'REQUEST' or 'CANCEL' with the iCalendar text, when the e-mail carries an invitation.
    ics_method      TEXT    CHECK (ics_method IN ('REQUEST', 'CANCEL')),
    ics             TEXT,
    contact_id      INTEGER REFERENCES contacts(id),
    appointment_id  INTEGER REFERENCES appointments(id),
    call_id         TEXT,
    dedupe_key      TEXT,
    status          TEXT    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped',
                                      'superseded', 'cancelled')),
    send_after      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_at      INTEGER,
    -- The server's answer to the message: its queue id when it gave one.
    queue_id        TEXT,
    error_code      INTEGER,
    detail          TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK ((ics_method IS NULL) = (ics IS NULL))
);
CREATE UNIQUE INDEX email_outbox_dedupe ON email_outbox(org_id, dedupe_key)
    WHERE dedupe_key IS NOT NULL AND status NOT IN ('superseded', 'cancelled');
CREATE INDEX email_outbox_due ON email_outbox(next_attempt_at) WHERE status = 'pending';
CREATE INDEX email_outbox_claimed ON email_outbox(claimed_at) WHERE status = 'sending';
CREATE INDEX email_outbox_appointment ON email_outbox(org_id, appointment_id)
    WHERE appointment_id IS NOT NULL;

-- Addresses that asked, through the link in a reminder e-mail, for no more reminders.
-- Stored lower-cased; confirmations and notices of changes still go.
CREATE TABLE email_unsubscribes (
    org_id     INTEGER NOT NULL REFERENCES orgs(id),
    address    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, address)
);

-- Attempts at e-mails land in `messages` too (method 'email'), linked to their outbox row.
ALTER TABLE messages ADD COLUMN email_outbox_id INTEGER REFERENCES email_outbox(id);
