//! The JSON API for calls, contacts and the dashboard figures. Callers are a signed-in staff
//! member (session cookie; state changes carry the `x-csrf-token` header) or a program with an
//! API token from Settings (`Authorization: Bearer …`, no CSRF). Either way every query starts
//! from the caller's org: another org's id is a 404 and lists never include its rows. Bad query
//! parameters are a 422 naming the parameter; nothing is changed.

pub mod appointments;
pub mod auth;
pub mod calls;
pub mod calls_dashboard;
pub mod contacts;
pub mod stats;

use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use std::collections::HashMap;

/// Query parameters as given.
pub type Params = HashMap<String, String>;

/// An instant as RFC 3339 in UTC ("2026-06-15T14:00:00Z").
pub fn iso(ts: Option<i64>) -> Option<String> {
    ts.and_then(|t| DateTime::from_timestamp(t, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A non-empty parameter.
fn param<'a>(p: &'a Params, key: &str) -> Option<&'a str> {
    p.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
}

const MAX_LIMIT: i64 = 200;

/// `limit` (1–200, default 50) and `offset` (≥ 0, default 0).
pub fn paging(p: &Params) -> AppResult<(i64, i64)> {
    let limit = match param(p, "limit") {
        None => 50,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                AppError::Validation(format!(
                    "limit must be a whole number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let offset = match param(p, "offset") {
        None => 0,
        Some(v) => v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            AppError::Validation("offset must be a whole number, 0 or more".into())
        })?,
    };
    Ok((limit, offset))
}

/// One of `allowed` for `key`, parsed by `parse`.
fn choice<T>(
    p: &Params,
    key: &str,
    allowed: &str,
    parse: impl Fn(&str) -> Option<T>,
) -> AppResult<Option<T>> {
    match param(p, key) {
        None => Ok(None),
        Some(v) => parse(&v.to_ascii_lowercase())
            .map(Some)
            .ok_or_else(|| AppError::Validation(format!("{key} must be one of {allowed}"))),
    }
}

/// `from`/`to`: a clinic-local date (`2026-06-15`; `to` includes that whole day) or an RFC 3339
/// instant. Unix seconds.
fn bound(p: &Params, key: &str, tz: Tz, end_of_day: bool) -> AppResult<Option<i64>> {
    let Some(v) = param(p, key) else {
        return Ok(None);
    };
    if let Ok(date) = NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        let date = if end_of_day {
            date.succ_opt().unwrap_or(date)
        } else {
            date
        };
        return Ok(Some(crate::domain::calls::day_start(tz, date).timestamp()));
    }
    DateTime::parse_from_rfc3339(v)
        .map(|d| Some(d.with_timezone(&Utc).timestamp()))
        .map_err(|_| {
            AppError::Validation(format!(
                "{key} must be a date like 2026-06-15 or an instant like 2026-06-15T14:00:00Z"
            ))
        })
}

/// One page of a list, with what is needed to ask for the next.
#[derive(serde::Serialize)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub limit: i64,
    pub offset: i64,
    pub next_offset: Option<i64>,
}

impl<T> ListPage<T> {
    pub fn new(items: Vec<T>, total: i64, limit: i64, offset: i64) -> Self {
        let next = offset + items.len() as i64;
        Self {
            next_offset: (next < total).then_some(next),
            items,
            total,
            limit,
            offset,
        }
    }
}
