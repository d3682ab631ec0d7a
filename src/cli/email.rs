//! `voxanne email set | show | test`: the clinic's mailbox from the command line.

use super::{cli_event, now, scope_for, CliError, CliResult};
use crate::app::open_store;
use crate::config::Config;
use crate::store::audit;
use crate::store::email_settings::{self, Input};
use serde_json::json;

/// `voxanne email set`: stores an org's mailbox, its password sealed.
pub fn email_set(config: &Config, org: Option<i64>, input: &Input<'_>) -> CliResult {
    let mailbox = email_settings::validate(input, None)?;
    let (db, vault) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let detail = format!(
        "host={} port={} tls={}",
        mailbox.host,
        mailbox.port,
        mailbox.tls.as_str()
    );
    db.write_blocking(move |tx| {
        email_settings::set(tx, &vault, &scope, &mailbox, now())?;
        audit::record(
            tx,
            &scope,
            &cli_event(
                "email.settings_set",
                &format!("org:{}", scope.org_id()),
                &detail,
            ),
        )
    })?;
    email_show(config, org)
}

/// `voxanne email show`: an org's mailbox, without its password.
pub fn email_show(config: &Config, org: Option<i64>) -> CliResult {
    let (db, _) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let summary = db.read_blocking(|c| email_settings::summary(c, &scope))?;
    Ok(match summary {
        Some(s) => json!({
            "org_id": scope.org_id(),
            "configured": true,
            "host": s.host,
            "port": s.port,
            "tls": s.tls,
            "username": s.username,
            "password": "***",
            "from_address": s.from_address,
            "from_name": s.from_name,
            "private_ca": s.private_ca,
            "digest_hour": s.digest_hour,
        }),
        None => json!({"org_id": scope.org_id(), "configured": false}),
    })
}

/// `voxanne email test`: sends a test e-mail; fails with the server's answer in plain words.
pub fn email_test(config: &Config, org: Option<i64>, to: &str) -> CliResult {
    let (db, vault) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Message(format!("cannot start the runtime: {e}")))?;
    let sent = runtime.block_on(crate::service::mailing::send_test(&db, &vault, scope, to));
    let outcome = match &sent {
        Ok(_) => "sent".to_string(),
        Err(why) => format!("failed: {why}"),
    };
    db.write_blocking(move |tx| {
        audit::record(
            tx,
            &scope,
            &cli_event("email.test", &format!("org:{}", scope.org_id()), &outcome),
        )
    })?;
    let queue_id = sent.map_err(CliError::Message)?;
    Ok(json!({"org_id": scope.org_id(), "sent": true, "to": to.trim(), "queue_id": queue_id}))
}

/// `voxanne email digest`: the owners' daily digest at a local hour, or none.
pub fn email_digest(config: &Config, org: Option<i64>, hour: Option<u32>) -> CliResult {
    if hour.is_some_and(|h| h > 23) {
        return Err(CliError::Message(
            "the hour should be 0 to 23, in the clinic's time zone".into(),
        ));
    }
    let (db, _) = open_store(config)?;
    let scope = scope_for(&db, org)?;
    let set = db.write_blocking(move |tx| {
        let set = crate::store::digest::set_hour(tx, &scope, hour)?;
        if set {
            audit::record(
                tx,
                &scope,
                &cli_event(
                    "email.digest_set",
                    &format!("org:{}", scope.org_id()),
                    &hour.map_or("off".to_string(), |h| format!("hour={h}")),
                ),
            )?;
        }
        Ok(set)
    })?;
    if !set {
        return Err(CliError::Message(
            "set up the clinic's mailbox first (voxanne email set)".into(),
        ));
    }
    email_show(config, org)
}
