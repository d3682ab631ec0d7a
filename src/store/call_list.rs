//! Listing and counting an org's calls: filters (period, direction, booked, sentiment, lead
//! tier, contact) and full-text search over what was said. Only the conditions asked for are
//! put in the SQL, so `calls_org_list` serves the order and every filter from the index alone:
//! counting and paging never read a call's row, and the transcript is read for none.
//! Search goes through `calls_fts` (kept by triggers, see migration 0009), which holds no org
//! id: its matches are always narrowed by the org's own rows.

use super::calls::{from_row, CallRow, LIST_COLUMNS};
use super::OrgScope;
use crate::domain::calls::CallType;
use crate::domain::lead::{Sentiment, Tier};
use crate::domain::search::fts_query;
use crate::error::AppResult;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

/// Filters for [`list`]; `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct CallFilter {
    /// Unix seconds, inclusive.
    pub from: Option<i64>,
    /// Unix seconds, exclusive.
    pub to: Option<i64>,
    pub call_type: Option<CallType>,
    pub booked: Option<bool>,
    pub tier: Option<Tier>,
    pub contact_id: Option<i64>,
    pub sentiment: Option<Sentiment>,
    /// Words as a person typed them; see `domain::search`. Nothing searchable means no search.
    pub search: Option<String>,
    /// Calls from or to this E.164 number, or with the contact who has it.
    pub phone: Option<String>,
    pub limit: i64,
    pub offset: i64,
}

impl CallFilter {
    /// A search that is nothing but a phone number, in any format, finds that number's calls
    /// rather than the words.
    pub fn phone_aware(mut self, default_country: &str) -> Self {
        let phone = self
            .search
            .as_deref()
            .and_then(|q| crate::domain::search::phone_query(q, default_country));
        if phone.is_some() {
            self.phone = phone;
            self.search = None;
        }
        self
    }
}

/// A call in a list, with its contact's name.
#[derive(Debug, Clone)]
pub struct ListedCall {
    pub call: CallRow,
    pub contact_name: Option<String>,
}

/// When a call happened, as `calls_org_list` spells it (the same as the generated
/// `occurred_at`, which would keep SQLite from reading the index alone).
macro_rules! occurred_at {
    () => {
        "COALESCE(started_at, created_at)"
    };
}

/// A search matching at most this many calls (in all orgs) reads them by row id; a broader
/// one walks the org's list index and checks each call against the matches.
const SEARCH_DRIVES_BELOW: i64 = 5_000;

/// A search counts its matches only this far past the page asked for ("1,050+ calls"): a word
/// found in nearly every call would otherwise cost a walk over all of them.
pub const SEARCH_COUNT_BEYOND: i64 = 1_000;

/// How the list is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Walk `calls_org_list` newest first (no search, or a broad one).
    ListIndex,
    /// Start from the search's matches; `+` keeps SQLite off the list index.
    SearchFirst,
    /// One contact's (or one number's) calls through `calls_org_contact` (or
    /// `calls_org_customer`), sorted afterwards: they are few, and walking the list index would
    /// visit every call of the org.
    ContactFirst,
}

/// The plan for `f`: a contact, else how many calls its search matches, decides.
fn plan(conn: &Connection, f: &CallFilter, drives_below: i64) -> AppResult<Plan> {
    if f.contact_id.is_some() || f.phone.is_some() {
        return Ok(Plan::ContactFirst);
    }
    let Some(q) = f.search.as_deref().and_then(fts_query) else {
        return Ok(Plan::ListIndex);
    };
    let matches: i64 = conn
        .prepare_cached("SELECT COUNT(*) FROM calls_fts WHERE calls_fts MATCH ?1")?
        .query_row([q], |r| r.get(0))?;
    Ok(if matches <= drives_below {
        Plan::SearchFirst
    } else {
        Plan::ListIndex
    })
}

/// The WHERE clause for `f` and its parameters, in order.
fn conditions(scope: &OrgScope, f: &CallFilter, plan: Plan) -> (String, Vec<Value>) {
    let first = plan != Plan::ListIndex;
    let mut sql = vec![if plan == Plan::SearchFirst {
        "+org_id = ?"
    } else {
        "org_id = ?"
    }];
    let mut params = vec![Value::Integer(scope.org_id())];
    let mut add = |clause: &'static str, v: Value| {
        sql.push(clause);
        params.push(v);
    };
    let text = |s: &str| Value::Text(s.to_string());
    let (since, until) = if first {
        (
            concat!("+", occurred_at!(), " >= ?"),
            concat!("+", occurred_at!(), " < ?"),
        )
    } else {
        (
            concat!(occurred_at!(), " >= ?"),
            concat!(occurred_at!(), " < ?"),
        )
    };
    if let Some(from) = f.from {
        add(since, Value::Integer(from));
    }
    if let Some(to) = f.to {
        add(until, Value::Integer(to));
    }
    if let Some(t) = f.call_type {
        add("type = ?", text(t.as_str()));
    }
    if let Some(b) = f.booked {
        add("booked = ?", Value::Integer(i64::from(b)));
    }
    if let Some(s) = f.sentiment {
        add("sentiment = ?", text(s.as_str()));
    }
    if let Some(t) = f.tier {
        add("lead_tier = ?", text(t.as_str()));
    }
    if let Some(c) = f.contact_id {
        add("contact_id = ?", Value::Integer(c));
    }
    if let Some(p) = &f.phone {
        add("customer_number = ?", text(p));
    }
    if let Some(q) = f.search.as_deref().and_then(fts_query) {
        add(
            "id IN (SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?)",
            Value::Text(q),
        );
    }
    (sql.join(" AND "), params)
}

/// The org's calls matching `f`, newest first, without transcripts, each with its contact's
/// name; and how many match in all.
pub fn list_with_names(
    conn: &Connection,
    scope: &OrgScope,
    f: &CallFilter,
) -> AppResult<(Vec<ListedCall>, i64)> {
    list_planned(conn, scope, f, plan(conn, f, SEARCH_DRIVES_BELOW)?)
}

fn list_planned(
    conn: &Connection,
    scope: &OrgScope,
    f: &CallFilter,
    plan: Plan,
) -> AppResult<(Vec<ListedCall>, i64)> {
    let (filter, mut params) = conditions(scope, f, plan);
    let order = match plan {
        Plan::ListIndex => concat!(occurred_at!(), " DESC, id DESC"),
        Plan::SearchFirst | Plan::ContactFirst => concat!("+", occurred_at!(), " DESC, +id DESC"),
    };
    if f.search.as_deref().and_then(fts_query).is_some() {
        return search_page(conn, scope, f, &filter, params, order);
    }
    let total = conn
        .prepare_cached(&format!("SELECT COUNT(*) FROM calls WHERE {filter}"))?
        .query_row(params_from_iter(params.iter()), |r| r.get(0))?;
    params.push(Value::Integer(f.limit));
    params.push(Value::Integer(f.offset));
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {LIST_COLUMNS},
                (SELECT name FROM contacts WHERE contacts.id = calls.contact_id)
         FROM calls WHERE {filter}
         ORDER BY {order} LIMIT ? OFFSET ?"
    ))?;
    let rows = stmt
        .query_map(params_from_iter(params.iter()), |r| {
            Ok(ListedCall {
                call: from_row(r)?,
                contact_name: r.get(35)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, total))
}

/// A search in one pass over its matches, newest first, reading only ids (from the index on
/// the list plan): the page's ids, and the matches counted up to [`SEARCH_COUNT_BEYOND`] past
/// the page. Then only the page's rows are read.
fn search_page(
    conn: &Connection,
    scope: &OrgScope,
    f: &CallFilter,
    filter: &str,
    mut params: Vec<Value>,
    order: &str,
) -> AppResult<(Vec<ListedCall>, i64)> {
    params.push(Value::Integer(f.offset + f.limit + SEARCH_COUNT_BEYOND));
    let ids: Vec<i64> = conn
        .prepare_cached(&format!(
            "SELECT id FROM calls WHERE {filter} ORDER BY {order} LIMIT ?"
        ))?
        .query_map(params_from_iter(params.iter()), |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let total = ids.len() as i64;
    let mut page: Vec<Value> = vec![Value::Integer(scope.org_id())];
    page.extend(
        ids.iter()
            .skip(usize::try_from(f.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(f.limit).unwrap_or(0))
            .map(|id| Value::Integer(*id)),
    );
    if page.len() == 1 {
        return Ok((Vec::new(), total));
    }
    let marks = vec!["?"; page.len() - 1].join(", ");
    let mut stmt = conn.prepare(&format!(
        "SELECT {LIST_COLUMNS},
                (SELECT name FROM contacts WHERE contacts.id = calls.contact_id)
         FROM calls WHERE org_id = ? AND id IN ({marks})
         ORDER BY +{} DESC, +id DESC",
        occurred_at!()
    ))?;
    let rows = stmt
        .query_map(params_from_iter(page.iter()), |r| {
            Ok(ListedCall {
                call: from_row(r)?,
                contact_name: r.get(35)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((rows, total))
}

/// True when `total` from a search stopped counting at the cap (show it as "N+").
pub fn total_is_floor(f: &CallFilter, total: i64) -> bool {
    f.search.as_deref().and_then(fts_query).is_some()
        && total >= f.offset + f.limit + SEARCH_COUNT_BEYOND
}

/// [`list_with_names`] without the names.
pub fn list(conn: &Connection, scope: &OrgScope, f: &CallFilter) -> AppResult<(Vec<CallRow>, i64)> {
    let (rows, total) = list_with_names(conn, scope, f)?;
    Ok((rows.into_iter().map(|l| l.call).collect(), total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{orgs, Db};
    use rusqlite::params;

    /// Inserts a call the way ingest does (the triggers index its text).
    fn call(conn: &Connection, org: i64, at: i64, transcript: &str, booked: bool) {
        conn.execute(
            "INSERT INTO calls (org_id, vapi_call_id, type, status, started_at, transcript,
                                booked, sentiment, lead_tier, created_at, updated_at)
             VALUES (?1, ?2, 'inbound', 'ended', ?3, ?4, ?5, 'positive', 'hot', ?3, ?3)",
            params![org, format!("c-{org}-{at}"), at, transcript, booked],
        )
        .unwrap();
    }

    fn plan_for(c: &Connection, f: &CallFilter) -> AppResult<Plan> {
        super::plan(c, f, SEARCH_DRIVES_BELOW)
    }

    fn setup() -> (tempfile::TempDir, Db, OrgScope, OrgScope) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let (a, b) = db
            .write_blocking(|tx| {
                let a = orgs::create(tx, "A", chrono_tz::UTC, 0)?;
                let b = orgs::create(tx, "B", chrono_tz::UTC, 0)?;
                call(tx, a.org_id(), 100, "AI: Hello\nUser: botox please", true);
                call(tx, a.org_id(), 200, "User: what are your hours", false);
                call(tx, a.org_id(), 300, "User: Botox prices? NEAR(", false);
                call(
                    tx,
                    b.org_id(),
                    400,
                    "User: botox for the other clinic",
                    true,
                );
                Ok((a, b))
            })
            .unwrap();
        (dir, db, a, b)
    }

    fn search(db: &Db, scope: &OrgScope, words: &str) -> (Vec<i64>, i64) {
        let f = CallFilter {
            search: Some(words.into()),
            limit: 10,
            ..CallFilter::default()
        };
        let (rows, total) = db.read_blocking(|c| list(c, scope, &f)).unwrap();
        (
            rows.iter().map(|r| r.facts.started_at.unwrap()).collect(),
            total,
        )
    }

    #[test]
    fn search_is_scoped_to_the_org_and_newest_first() {
        let (_dir, db, a, b) = setup();
        assert_eq!(search(&db, &a, "botox"), (vec![300, 100], 2));
        assert_eq!(search(&db, &b, "botox"), (vec![400], 1));
        assert_eq!(search(&db, &a, "BOTOX please"), (vec![100], 1));
        // Operators and broken syntax are words, never an error.
        assert_eq!(search(&db, &a, "NEAR( \"unclosed"), (vec![], 0));
        assert_eq!(search(&db, &a, "prices NEAR("), (vec![300], 1));
        // Nothing searchable: no search.
        assert_eq!(search(&db, &a, "*").1, 3);
    }

    #[test]
    fn text_changes_and_deletes_keep_the_index_right() {
        let (_dir, db, a, _b) = setup();
        db.write_blocking(|tx| {
            tx.execute(
                "UPDATE calls SET transcript = NULL WHERE started_at = 100",
                [],
            )?;
            tx.execute(
                "UPDATE calls SET summary = 'Asked about botox' WHERE started_at = 200",
                [],
            )?;
            tx.execute("DELETE FROM calls WHERE started_at = 300", [])?;
            Ok(())
        })
        .unwrap();
        assert_eq!(search(&db, &a, "botox"), (vec![200], 1));
        let integrity = db.read_blocking(|c| {
            Ok(c.execute(
                "INSERT INTO calls_fts (calls_fts, rank) VALUES ('integrity-check', 1)",
                [],
            ))
        });
        assert!(matches!(integrity, Ok(Ok(_))), "{integrity:?}");
    }

    #[test]
    fn filters_and_counts_are_served_by_the_list_index() {
        let (_dir, db, a, _b) = setup();
        let f = CallFilter {
            from: Some(0),
            to: Some(1000),
            call_type: Some(CallType::Inbound),
            booked: Some(false),
            sentiment: Some(Sentiment::Positive),
            tier: Some(Tier::Hot),
            limit: 10,
            ..CallFilter::default()
        };
        let (rows, total) = db.read_blocking(|c| list(c, &a, &f)).unwrap();
        assert_eq!((rows.len(), total), (2, 2));
        let (filter, params) = conditions(&a, &f, Plan::ListIndex);
        let plan = |sql: String, params: &[Value]| -> String {
            db.read_blocking(|c| {
                let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                let details = stmt
                    .query_map(params_from_iter(params.iter()), |r| r.get::<_, String>(3))?
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(details.join("; "))
            })
            .unwrap()
        };
        let count = plan(
            format!("SELECT COUNT(*) FROM calls WHERE {filter}"),
            &params,
        );
        assert!(count.contains("COVERING INDEX calls_org_list"), "{count}");
        let page = plan(
            format!(
                "SELECT id FROM calls WHERE {filter} ORDER BY {} DESC, id DESC LIMIT 50",
                occurred_at!()
            ),
            &params,
        );
        assert!(page.contains("calls_org_list"), "{page}");
        assert!(!page.contains("TEMP B-TREE"), "{page}");
        // A narrow search starts from its matches and reads calls by row id.
        let searched = CallFilter {
            search: Some("botox".into()),
            ..f
        };
        assert_eq!(
            db.read_blocking(|c| plan_for(c, &searched)).unwrap(),
            Plan::SearchFirst
        );
        let (filter, params) = conditions(&a, &searched, Plan::SearchFirst);
        let driven = plan(
            format!("SELECT COUNT(*) FROM calls WHERE {filter}"),
            &params,
        );
        assert!(driven.contains("INTEGER PRIMARY KEY"), "{driven}");
        assert!(!driven.contains("calls_org_list"), "{driven}");
        assert_eq!(
            db.read_blocking(|c| super::plan(c, &searched, 1)).unwrap(),
            Plan::ListIndex,
            "a broad search walks the list index"
        );
        // One contact's calls come through the contact index, not a walk over the org's calls.
        let theirs = CallFilter {
            contact_id: Some(7),
            limit: 20,
            ..CallFilter::default()
        };
        assert_eq!(
            db.read_blocking(|c| plan_for(c, &theirs)).unwrap(),
            Plan::ContactFirst
        );
        let (filter, params) = conditions(&a, &theirs, Plan::ContactFirst);
        let page = plan(
            format!(
                "SELECT id FROM calls WHERE {filter} ORDER BY +{} DESC, +id DESC LIMIT 20",
                occurred_at!()
            ),
            &params,
        );
        assert!(page.contains("calls_org_contact"), "{page}");
    }

    #[test]
    fn a_broad_search_counts_up_to_the_cap_past_the_page() {
        let (_dir, db, a, _b) = setup();
        let org = a.org_id();
        db.write_blocking(move |tx| {
            for k in 0..(SEARCH_COUNT_BEYOND + 30) {
                call(tx, org, 1_000 + k, "User: botox please", false);
            }
            Ok(())
        })
        .unwrap();
        let f = CallFilter {
            search: Some("botox".into()),
            limit: 10,
            offset: 10,
            ..CallFilter::default()
        };
        let (rows, total) = db.read_blocking(|c| list(c, &a, &f)).unwrap();
        assert_eq!(rows.len(), 10);
        assert_eq!(total, 10 + 10 + SEARCH_COUNT_BEYOND);
        assert!(total_is_floor(&f, total));
        // Newest first, and the second page.
        assert_eq!(
            rows[0].facts.started_at,
            Some(1_000 + SEARCH_COUNT_BEYOND + 30 - 11)
        );
        let narrow = CallFilter {
            search: Some("hours".into()),
            limit: 10,
            ..CallFilter::default()
        };
        let (rows, total) = db.read_blocking(|c| list(c, &a, &narrow)).unwrap();
        assert_eq!((rows.len(), total), (1, 1));
        assert!(!total_is_floor(&narrow, total));
    }
}
