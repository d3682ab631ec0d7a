//! Tool registration with Vapi, per org: the assistant the tools are linked to, the state of
//! the last sync (`running` doubles as the claim that keeps two syncs of one org apart), and
//! each registered tool's Vapi id with the hashes of what was sent, so only changes are sent.

use super::OrgScope;
use crate::error::{AppError, AppResult};
use rusqlite::{params, Connection, OptionalExtension, Transaction};
use serde::Serialize;

/// A sync still `running` after this long was cut off (a restart); a new one may start.
const STALE_RUN_SECS: i64 = 10 * 60;

#[derive(Debug, Clone, Serialize)]
pub struct ToolSyncState {
    pub assistant_id: Option<String>,
    /// `never`, `running`, `synced` or `failed`.
    pub status: String,
    pub detail: Option<String>,
    /// Calendar tools found on the assistant, comma-separated.
    pub native_tools: Option<String>,
    pub finished_at: Option<i64>,
}

pub fn state(conn: &Connection, scope: &OrgScope) -> AppResult<Option<ToolSyncState>> {
    Ok(conn
        .query_row(
            "SELECT (SELECT vapi_assistant_id FROM orgs WHERE id = s.org_id), status, detail,
                    native_tools, finished_at
             FROM vapi_tool_sync s WHERE org_id = ?1",
            [scope.org_id()],
            |r| {
                Ok(ToolSyncState {
                    assistant_id: r.get(0)?,
                    status: r.get(1)?,
                    detail: r.get(2)?,
                    native_tools: r.get(3)?,
                    finished_at: r.get(4)?,
                })
            },
        )
        .optional()?)
}

/// The org's Vapi assistant the tools are linked to: the inbound assistant of Settings →
/// Voice agent (`orgs.vapi_assistant_id`), one id for both screens.
pub fn assistant_id(conn: &Connection, scope: &OrgScope) -> AppResult<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT vapi_assistant_id FROM orgs WHERE id = ?1")?
        .query_row([scope.org_id()], |r| r.get(0))
        .optional()?
        .flatten())
}

/// Checks an assistant id as typed: Vapi's ids are UUIDs; blank means none.
pub fn parse_assistant_id(input: &str) -> AppResult<Option<String>> {
    let id = input.trim();
    if id.is_empty() {
        return Ok(None);
    }
    let ok = id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(Some(id.to_string()))
    } else {
        Err(AppError::Validation(
            "The assistant ID is the UUID shown under the assistant's name in the Vapi dashboard, like 3c1f7a52-…".into(),
        ))
    }
}

pub fn set_assistant(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    assistant_id: Option<&str>,
    now: i64,
) -> AppResult<()> {
    tx.execute(
        "UPDATE orgs SET vapi_assistant_id = ?2 WHERE id = ?1",
        params![scope.org_id(), assistant_id],
    )?;
    tx.execute(
        "INSERT INTO vapi_tool_sync (org_id, updated_at) VALUES (?1, ?2)
         ON CONFLICT (org_id) DO UPDATE SET updated_at = ?2",
        params![scope.org_id(), now],
    )?;
    Ok(())
}

/// Marks a sync as running; false when another one is (and is not stale).
pub fn claim(tx: &Transaction<'_>, scope: &OrgScope, now: i64) -> AppResult<bool> {
    tx.execute(
        "INSERT INTO vapi_tool_sync (org_id, updated_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        params![scope.org_id(), now],
    )?;
    Ok(tx.execute(
        "UPDATE vapi_tool_sync SET status = 'running', detail = NULL, started_at = ?2,
             updated_at = ?2
         WHERE org_id = ?1 AND (status != 'running' OR started_at < ?3)",
        params![scope.org_id(), now, now - STALE_RUN_SECS],
    )? == 1)
}

pub fn finish(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    ok: bool,
    detail: &str,
    native_tools: Option<&str>,
    now: i64,
) -> AppResult<()> {
    tx.execute(
        "UPDATE vapi_tool_sync SET status = ?2, detail = ?3, native_tools = ?4, finished_at = ?5,
             updated_at = ?5
         WHERE org_id = ?1",
        params![
            scope.org_id(),
            if ok { "synced" } else { "failed" },
            detail,
            native_tools,
            now
        ],
    )?;
    Ok(())
}

/// One tool as registered in Vapi.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub name: String,
    pub vapi_id: String,
    pub definition_sha256: String,
    pub server_sha256: String,
}

pub fn registered(conn: &Connection, scope: &OrgScope) -> AppResult<Vec<Registered>> {
    let rows = conn
        .prepare_cached(
            "SELECT name, vapi_id, definition_sha256, server_sha256 FROM vapi_tools
             WHERE org_id = ?1 ORDER BY name",
        )?
        .query_map([scope.org_id()], |r| {
            Ok(Registered {
                name: r.get(0)?,
                vapi_id: r.get(1)?,
                definition_sha256: r.get(2)?,
                server_sha256: r.get(3)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

pub fn record_tool(
    tx: &Transaction<'_>,
    scope: &OrgScope,
    tool: &Registered,
    now: i64,
) -> AppResult<()> {
    tx.execute(
        "INSERT INTO vapi_tools (org_id, name, vapi_id, definition_sha256, server_sha256, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (org_id, name) DO UPDATE SET vapi_id = ?3, definition_sha256 = ?4,
             server_sha256 = ?5, updated_at = ?6",
        params![
            scope.org_id(),
            tool.name,
            tool.vapi_id,
            tool.definition_sha256,
            tool.server_sha256,
            now
        ],
    )?;
    Ok(())
}

/// For the re-sync job: orgs that have registered tools before and are not mid-sync.
pub fn synced_orgs_system(conn: &Connection) -> AppResult<Vec<OrgScope>> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "SELECT org_id FROM vapi_tool_sync
             WHERE status IN ('synced', 'failed')
               AND EXISTS (SELECT 1 FROM vapi_tools t WHERE t.org_id = vapi_tool_sync.org_id)
             ORDER BY org_id",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids.into_iter().map(OrgScope::mint).collect())
}
