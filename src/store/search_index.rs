//! Keeping the calls' full-text index (`calls_fts`) up to date. Triggers queue every call whose
//! text is new or changed in `search_queue` (migration 0012); the writer calls [`index_queued`]
//! once per batch, just before it commits, so a saved call is searchable as soon as its write
//! is acknowledged, and FTS5 writes one index segment per batch instead of one per event.

use crate::error::AppResult;
use rusqlite::Transaction;

/// Indexes every queued call with its current text and empties the queue. Runs in the
/// writer's transaction; on error the caller rolls it back and the queue is kept for the next
/// batch.
pub fn index_queued(tx: &Transaction<'_>) -> rusqlite::Result<usize> {
    let queued: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM search_queue)")?
        .query_row([], |r| r.get(0))?;
    if !queued {
        return Ok(0);
    }
    let indexed = tx
        .prepare_cached(
            "INSERT INTO calls_fts (rowid, summary, transcript)
             SELECT c.id, c.summary, c.transcript
             FROM search_queue q JOIN calls c ON c.id = q.call_id",
        )?
        .execute([])?;
    tx.prepare_cached("DELETE FROM search_queue")?.execute([])?;
    Ok(indexed)
}

/// Runs `clear`, which deletes or clears call text, with FTS5's secure-delete on: the old
/// text's words are removed from the index pages themselves, not just marked deleted, so they
/// leave the database file. Off again afterwards (it makes every index flush costly). The
/// savepoint's release flushes the index while the option is on.
pub fn securely<T>(tx: &Transaction<'_>, clear: impl FnOnce() -> AppResult<T>) -> AppResult<T> {
    const ON: &str = "INSERT INTO calls_fts (calls_fts, rank) VALUES ('secure-delete', 1)";
    const OFF: &str = "INSERT INTO calls_fts (calls_fts, rank) VALUES ('secure-delete', 0)";
    tx.execute(ON, [])?;
    tx.execute("SAVEPOINT secure_search", [])?;
    let result = clear();
    let ended = if result.is_ok() {
        tx.execute("RELEASE secure_search", [])
    } else {
        tx.execute("ROLLBACK TO secure_search", [])
            .and_then(|_| tx.execute("RELEASE secure_search", []))
    };
    tx.execute(OFF, [])?;
    ended?;
    result
}

#[cfg(test)]
mod tests {
    use crate::store::{orgs, Db};
    use rusqlite::{params, Connection};

    fn matches(c: &Connection, word: &str) -> Vec<i64> {
        let mut s = c
            .prepare("SELECT rowid FROM calls_fts WHERE calls_fts MATCH ?1 ORDER BY rowid")
            .unwrap();
        s.query_map([word], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn calls_changed_while_queued_or_after_indexing_are_indexed_with_their_latest_text() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        let org = db
            .write_blocking(|tx| Ok(orgs::create(tx, "A", chrono_tz::UTC, 0)?.org_id()))
            .unwrap();
        let insert = move |tx: &Connection, id: i64, text: &str| {
            tx.execute(
                "INSERT INTO calls (id, org_id, type, status, transcript, created_at, updated_at)
                 VALUES (?1, ?2, 'inbound', 'ended', ?3, 0, 0)",
                params![id, org, text],
            )
        };
        // One batch: inserted, changed and deleted before the index ever saw them.
        db.write_blocking(move |tx| {
            insert(tx, 1, "User: botox please")?;
            insert(tx, 2, "User: filler please")?;
            insert(tx, 3, "User: facelift please")?;
            tx.execute(
                "UPDATE calls SET transcript = 'User: peel please' WHERE id = 2",
                [],
            )?;
            tx.execute("DELETE FROM calls WHERE id = 3", [])?;
            Ok(())
        })
        .unwrap();
        let (botox, filler, peel, facelift, queued) = db
            .read_blocking(|c| {
                let queued: i64 =
                    c.query_row("SELECT COUNT(*) FROM search_queue", [], |r| r.get(0))?;
                Ok((
                    matches(c, "botox"),
                    matches(c, "filler"),
                    matches(c, "peel"),
                    matches(c, "facelift"),
                    queued,
                ))
            })
            .unwrap();
        assert_eq!(
            (botox, filler, peel, facelift, queued),
            (vec![1], vec![], vec![2], vec![], 0)
        );
        // Later batches: an indexed call's old text leaves the index.
        db.write_blocking(|tx| {
            tx.execute("UPDATE calls SET transcript = NULL WHERE id = 1", [])?;
            tx.execute("DELETE FROM calls WHERE id = 2", [])?;
            Ok(())
        })
        .unwrap();
        let (botox, peel) = db
            .read_blocking(|c| Ok((matches(c, "botox"), matches(c, "peel"))))
            .unwrap();
        assert_eq!((botox, peel), (vec![], vec![]));
        let integrity = db.read_blocking(|c| {
            Ok(c.execute(
                "INSERT INTO calls_fts (calls_fts, rank) VALUES ('integrity-check', 1)",
                [],
            ))
        });
        assert!(matches!(integrity, Ok(Ok(_))), "{integrity:?}");
    }

    fn index_holds(c: &Connection, word: &str) -> bool {
        c.query_row(
            "SELECT EXISTS (SELECT 1 FROM calls_fts_data WHERE instr(block, ?1) > 0)",
            [word.as_bytes()],
            |r| r.get(0),
        )
        .unwrap()
    }

    #[test]
    fn text_cleared_by_retention_leaves_the_index_pages_but_a_plain_change_does_not() {
        use crate::store::retention::{purge_system, CALL_CONTENT};
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("t.db")).unwrap();
        db.write_blocking(|tx| {
            let org = orgs::create(tx, "A", chrono_tz::UTC, 0)?.org_id();
            for (id, at, text) in [
                (1, 100, "User: my name is zzqxv"),
                (2, 100, "User: and mine is zzwyk"),
                (3, 900_000, "User: hello there"),
            ] {
                tx.execute(
                    "INSERT INTO calls (id, org_id, type, status, started_at, transcript,
                                        created_at, updated_at)
                     VALUES (?1, ?2, 'inbound', 'ended', ?3, ?4, ?3, ?3)",
                    params![id, org, at, text],
                )?;
            }
            Ok(())
        })
        .unwrap();
        assert!(db.read_blocking(|c| Ok(index_holds(c, "zzqxv"))).unwrap());
        // A plain change leaves the old word in the pages (marked deleted): the control.
        db.write_blocking(|tx| {
            tx.execute(
                "UPDATE calls SET transcript = 'User: gone' WHERE id = 2",
                [],
            )?;
            Ok(())
        })
        .unwrap();
        assert!(db.read_blocking(|c| Ok(index_holds(c, "zzwyk"))).unwrap());
        // Retention clears call 1 with secure delete: its word leaves the file's pages.
        let purged = db
            .write_blocking(|tx| purge_system(tx, CALL_CONTENT, 1_000, 30, 2_000))
            .unwrap()
            .unwrap();
        assert_eq!(purged.len(), 1);
        let (gone, kept, secure_off) = db
            .read_blocking(|c| {
                let off: i64 = c.query_row(
                    "SELECT v FROM calls_fts_config WHERE k = 'secure-delete'",
                    [],
                    |r| r.get(0),
                )?;
                Ok((!index_holds(c, "zzqxv"), matches(c, "hello"), off == 0))
            })
            .unwrap();
        assert!(gone, "retention left the word in the index");
        assert_eq!(kept, vec![3]);
        assert!(
            secure_off,
            "secure delete must be off again after retention"
        );
    }
}
