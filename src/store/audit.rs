//! The append-only audit log (UPDATE and DELETE are refused by triggers).

use super::OrgScope;
use crate::error::AppResult;
use rusqlite::{params, Connection, Transaction};
use serde::Serialize;

/// Who did something.
#[derive(Debug, Clone)]
pub enum Actor {
    Staff {
        id: i64,
        email: String,
    },
    /// A system component ("vapi", "scheduler", "cli", "setup").
    System(&'static str),
    /// Someone not (yet) known, e.g. a failed login for an email with no account.
    Anonymous(String),
}

impl Actor {
    fn parts(&self) -> (Option<i64>, String) {
        match self {
            Actor::Staff { id, email } => (Some(*id), email.clone()),
            Actor::System(name) => (None, format!("system:{name}")),
            Actor::Anonymous(who) => (None, format!("anonymous:{who}")),
        }
    }
}

/// Who made a change, from where and through what: what every audited workflow is given.
#[derive(Debug, Clone)]
pub struct Who {
    pub actor: Actor,
    /// How they reached the appliance: "dashboard", "session", "token 3 (crm)".
    pub via: String,
    pub ip: Option<String>,
}

impl Who {
    /// A member of staff acting through `via` from `ip`.
    pub fn staff(member: &super::staff::Staff, via: &str, ip: std::net::SocketAddr) -> Who {
        Who {
            actor: Actor::Staff {
                id: member.id,
                email: member.email.clone(),
            },
            via: via.to_string(),
            ip: Some(ip.ip().to_string()),
        }
    }

    /// The member of staff acting, when a person acts.
    pub fn staff_id(&self) -> Option<i64> {
        match &self.actor {
            Actor::Staff { id, .. } => Some(*id),
            _ => None,
        }
    }
}

pub struct Event<'a> {
    pub actor: &'a Actor,
    pub action: &'a str,
    pub object: &'a str,
    pub detail: &'a str,
    pub ip: Option<&'a str>,
    pub at: i64,
}

pub fn record(tx: &Transaction<'_>, scope: &OrgScope, event: &Event<'_>) -> AppResult<()> {
    insert(tx, Some(scope.org_id()), event)
}

/// For events that belong to no org (a failed login for an unknown email).
pub fn record_unscoped(tx: &Transaction<'_>, event: &Event<'_>) -> AppResult<()> {
    insert(tx, None, event)
}

fn insert(tx: &Transaction<'_>, org_id: Option<i64>, event: &Event<'_>) -> AppResult<()> {
    let (staff_id, actor) = event.actor.parts();
    tx.prepare_cached(
        "INSERT INTO audit_log (org_id, staff_id, actor, action, object, detail, ip, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        org_id,
        staff_id,
        actor,
        event.action,
        event.object,
        event.detail,
        event.ip,
        event.at
    ])?;
    Ok(())
}

#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub detail: String,
    pub ip: Option<String>,
    pub at: i64,
}

pub fn list(conn: &Connection, scope: &OrgScope, limit: i64) -> AppResult<Vec<AuditRow>> {
    let mut stmt = conn.prepare(
        "SELECT id, actor, action, object, detail, ip, at FROM audit_log
         WHERE org_id = ?1 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![scope.org_id(), limit], |r| {
        Ok(AuditRow {
            id: r.get(0)?,
            actor: r.get(1)?,
            action: r.get(2)?,
            object: r.get(3)?,
            detail: r.get(4)?,
            ip: r.get(5)?,
            at: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}
