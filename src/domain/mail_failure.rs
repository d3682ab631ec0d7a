//! Why an e-mail did not go, in plain words, and whether trying again can help. The SMTP client
//! sorts what happened into a [`MailFailure`]; this is the one place that decides what the
//! clinic reads and what the outbox does next (docs/email.md §4).

/// What went wrong talking to the clinic's mail server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailFailure {
    /// The server answered with a negative reply code (4xx or 5xx) and its own text.
    Reply { code: u16, text: String },
    /// The server's certificate was not trusted (unknown issuer, wrong name, expired).
    Certificate(String),
    /// STARTTLS was required but the server did not offer it: nothing secret was sent.
    NoStartTls,
    /// The TLS handshake failed for another reason (often the wrong TLS mode for the port).
    Tls(String),
    /// The server could not be reached, or the connection dropped.
    Connection(String),
    /// The server did not answer in time.
    Timeout,
    /// The mailbox settings or the message could not be used as they are.
    Setup(String),
}

impl MailFailure {
    /// Whether the outbox should try again later: temporary replies (4xx), connection
    /// trouble and timeouts. A 5xx reply, a certificate or a set-up problem stops it.
    pub fn is_transient(&self) -> bool {
        match self {
            MailFailure::Reply { code, .. } => (400..500).contains(code),
            MailFailure::Connection(_) | MailFailure::Timeout => true,
            MailFailure::Certificate(_)
            | MailFailure::NoStartTls
            | MailFailure::Tls(_)
            | MailFailure::Setup(_) => false,
        }
    }

    /// The reply code, when the server gave one.
    pub fn code(&self) -> Option<u16> {
        match self {
            MailFailure::Reply { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// The sentence the clinic reads.
    pub fn explain(&self) -> String {
        match self {
            MailFailure::Reply { code, text } => explain_reply(*code, text),
            MailFailure::Certificate(detail) => format!(
                "The mail server's certificate is not trusted ({detail}). If the server uses a \
                 private certificate authority, give that authority's certificate (--ca-file); \
                 otherwise check the host name."
            ),
            MailFailure::NoStartTls => "The mail server does not offer STARTTLS on this port, so \
                 the password was not sent. If this is an implicit-TLS port (usually 465), choose \
                 TLS mode “tls”."
                .to_string(),
            MailFailure::Tls(detail) => format!(
                "The encrypted connection to the mail server failed ({detail}). Check the TLS \
                 mode: port 587 usually takes STARTTLS, port 465 implicit TLS."
            ),
            MailFailure::Connection(detail) => format!(
                "The mail server could not be reached ({detail}). Check the host and port; it \
                 is tried again later."
            ),
            MailFailure::Timeout => {
                "The mail server did not answer in time; it is tried again later.".to_string()
            }
            MailFailure::Setup(detail) => detail.clone(),
        }
    }
}

/// The server's own words, kept short and on one line.
fn quoted(text: &str) -> String {
    let one: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let one = one.trim();
    let short: String = one.chars().take(200).collect();
    if short.is_empty() {
        String::new()
    } else {
        format!(" The server said: “{short}”.")
    }
}

fn explain_reply(code: u16, text: &str) -> String {
    let said = quoted(text);
    let lower = text.to_ascii_lowercase();
    if code == 550 && (text.contains("5.7.30") || lower.contains("basic authentication")) {
        return format!(
            "Microsoft 365 no longer accepts a password for sending from this mailbox (550 5.7.30). \
             An administrator can turn on authenticated SMTP for the mailbox, or connect it with \
             OAuth instead.{said}"
        );
    }
    match code {
        535 => format!(
            "The mail server refused the login (535): check the username and the password. \
             Google and Microsoft mailboxes need an app password, not the account's own password.{said}"
        ),
        534 | 538 => format!(
            "The mail server wants a different way of signing in ({code}), such as an app \
             password or OAuth.{said}"
        ),
        530 => format!(
            "The mail server requires signing in or an encrypted connection first (530).{said}"
        ),
        550 | 551 | 553 => format!(
            "The mail server refused the message ({code}): the sender or the recipient address \
             was not accepted.{said}"
        ),
        552 => format!("The mail server refused the message as too large (552).{said}"),
        554 => format!("The mail server refused the message (554).{said}"),
        421 => format!(
            "The mail server is busy or closing the connection (421); it is tried again later.{said}"
        ),
        450..=452 => format!(
            "The mail server could not take the message now ({code}); it is tried again later.{said}"
        ),
        400..=499 => format!(
            "The mail server asked to try again later ({code}); it is tried again later.{said}"
        ),
        _ => format!("The mail server refused ({code}).{said}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(code: u16, text: &str) -> MailFailure {
        MailFailure::Reply {
            code,
            text: text.into(),
        }
    }

    #[test]
    fn temporary_replies_and_connection_trouble_are_retried_refusals_are_not() {
        assert!(reply(421, "try later").is_transient());
        assert!(reply(451, "").is_transient());
        assert!(MailFailure::Connection("refused".into()).is_transient());
        assert!(MailFailure::Timeout.is_transient());
        assert!(!reply(535, "").is_transient());
        assert!(!reply(550, "").is_transient());
        assert!(!MailFailure::Certificate("unknown issuer".into()).is_transient());
        assert!(!MailFailure::NoStartTls.is_transient());
    }

    #[test]
    fn the_known_refusals_are_named() {
        let login = reply(535, "5.7.8 Authentication credentials invalid").explain();
        assert!(
            login.starts_with("The mail server refused the login (535)"),
            "{login}"
        );
        assert!(login.contains("“5.7.8 Authentication credentials invalid”"));
        let ms = reply(
            550,
            "5.7.30 Basic authentication is not supported for Client Submission",
        )
        .explain();
        assert!(ms.contains("Microsoft 365"), "{ms}");
        assert!(ms.contains("550 5.7.30"), "{ms}");
        let other = reply(550, "5.1.1 no such user\nsecond line").explain();
        assert!(other.contains("recipient address"), "{other}");
        assert!(!other.contains('\n'));
    }
}
