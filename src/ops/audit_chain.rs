//! Tamper evidence for the audit trail. Every write to a row (its begin,
//! its process, its finish) appends an event to `audit_chain` in the same
//! transaction, whose hash is `sha256(previous hash, newline, the row's
//! fields for that event as a JSON array)`. Editing, deleting or inserting a
//! row around opsdeck, or dropping the triggers that forbid it, shows in
//! [`verify`]: the hashes no longer match, a chained row is missing, a row
//! has no chain entry, or a trigger is gone.
//!
//! What it cannot see: someone who rewrites the whole suffix of the chain
//! with freshly computed hashes (the algorithm is public; there is no key).
//! The JSON-lines mirror carries each event's hash, so a copy shipped off
//! the host pins the chain as it was.

use futures::TryStreamExt;
use sha2::{Digest, Sha256};
use sqlx::sqlite::{SqliteConnection, SqliteRow};
use sqlx::{Row, SqliteExecutor};

use crate::store::Store;

/// Which write an event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// The attempt, before anything ran.
    Begin,
    /// The process that runs it.
    Process,
    /// How it ended (for a refusal: in the same write as the begin).
    Finish,
}

impl Event {
    fn as_str(self) -> &'static str {
        match self {
            Event::Begin => "begin",
            Event::Process => "process",
            Event::Finish => "finish",
        }
    }

    fn parse(s: &str) -> Option<Event> {
        [Event::Begin, Event::Process, Event::Finish].into_iter().find(|e| e.as_str() == s)
    }

    /// The columns each event covers, integer columns marked.
    fn columns(self) -> &'static [(&'static str, bool)] {
        match self {
            Event::Begin => &[
                ("id", true),
                ("started_at", false),
                ("session_id", true),
                ("claimed_user", false),
                ("claimed_sudo_user", false),
                ("claimed_ssh_origin", false),
                ("tty", false),
                ("host", false),
                ("action", false),
                ("target_kind", false),
                ("target_id", false),
                ("target_name", false),
                ("preview", false),
                ("preconditions", false),
                ("guard", false),
                ("override", true),
                ("reason", false),
                ("real_uid", true),
                ("real_user", false),
                ("login_uid", true),
                ("login_user", false),
                ("ssh_peer", false),
            ],
            Event::Process => &[("id", true), ("run_pid", true), ("run_pid_start", true)],
            Event::Finish => &[
                ("id", true),
                ("finished_at", false),
                ("ending", false),
                ("duration_ms", true),
                ("output_excerpt", false),
            ],
        }
    }
}

/// The triggers that keep the trail append-only, by name.
const TRIGGERS: [&str; 7] = [
    "audit_no_delete",
    "audit_append_only",
    "audit_chain_no_update",
    "audit_chain_no_delete",
    "audit_chain_origin_fixed",
    "audit_chain_origin_no_delete",
    "audit_chain_origin_once",
];

const MIGRATIONS: [&str; 2] = [
    include_str!("../../migrations/0002_audit.sql"),
    include_str!("../../migrations/0006_audit_identity_chain.sql"),
];

/// A trigger's statement as its migration wrote it (the last definition wins).
fn expected_trigger_sql(name: &str) -> Option<String> {
    let head = format!("CREATE TRIGGER {name} ");
    MIGRATIONS.iter().rev().find_map(|text| {
        let start = text.rfind(&head)?;
        let end = start + text[start..].find("\nEND;")? + "\nEND".len();
        Some(normalize(&text[start..end]))
    })
}

fn normalize(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn link(prev: &str, canonical: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev.as_bytes());
    h.update(b"\n");
    h.update(canonical.as_bytes());
    hex(&h.finalize())
}

/// The event's fields of `row`, as one JSON array: a fixed order, typed
/// values, nothing left to formatting.
fn canonical(event: Event, row: &SqliteRow) -> Result<String, sqlx::Error> {
    let mut values = vec![serde_json::Value::from(event.as_str())];
    for (col, integer) in event.columns() {
        values.push(if *integer {
            row.try_get::<Option<i64>, _>(*col)?.map_or(serde_json::Value::Null, Into::into)
        } else {
            row.try_get::<Option<String>, _>(*col)?.map_or(serde_json::Value::Null, Into::into)
        });
    }
    Ok(serde_json::Value::Array(values).to_string())
}

async fn genesis(conn: impl SqliteExecutor<'_>) -> Result<String, sqlx::Error> {
    let legacy: i64 =
        sqlx::query_scalar("SELECT legacy_max_id FROM audit_chain_origin").fetch_one(conn).await?;
    Ok(link("opsdeck audit chain v1", &legacy.to_string()))
}

/// Append `event` for row `id`, hashing what the row now holds. Call inside
/// the transaction that wrote the row, after the write (which holds the
/// write lock, so no other opsdeck appends in between). Returns the hash.
pub async fn append(conn: &mut SqliteConnection, id: i64, event: Event) -> Result<String, sqlx::Error> {
    let row = sqlx::query("SELECT * FROM audit WHERE id = ?").bind(id).fetch_one(&mut *conn).await?;
    let last: Option<String> = sqlx::query_scalar("SELECT hash FROM audit_chain ORDER BY seq DESC LIMIT 1")
        .fetch_optional(&mut *conn)
        .await?;
    let prev = match last {
        Some(h) => h,
        None => genesis(&mut *conn).await?,
    };
    let hash = link(&prev, &canonical(event, &row)?);
    sqlx::query("INSERT INTO audit_chain (audit_id, event, prev_hash, hash) VALUES (?, ?, ?, ?)")
        .bind(id)
        .bind(event.as_str())
        .bind(&prev)
        .bind(&hash)
        .execute(&mut *conn)
        .await?;
    Ok(hash)
}

/// One thing wrong with the trail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The audit row it concerns; `None` for the schema (triggers).
    pub row: Option<i64>,
    /// What is wrong, in words.
    pub what: String,
}

/// The result of checking the whole trail.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Chain entries checked.
    pub entries: usize,
    /// Rows checked against the chain.
    pub rows: usize,
    /// Rows written before the chain existed (not covered).
    pub legacy_rows: usize,
    /// What is wrong: the schema first, then by row, the first broken row first.
    pub problems: Vec<Problem>,
}

impl Verdict {
    /// One line for the status bar and the audit view.
    pub fn summary(&self) -> String {
        match self.problems.first() {
            None => format!("audit chain intact: {} rows, {} entries", self.rows, self.entries),
            Some(p) => {
                let more = self.problems.len() - 1;
                let tail = if more > 0 { format!(" (and {more} more problems)") } else { String::new() };
                format!("AUDIT TRAIL TAMPERED: {}{tail}", p.what)
            }
        }
    }
}

/// Check the triggers and recompute the chain over every row.
pub async fn verify(store: &Store) -> Result<Verdict, String> {
    let err = |e: sqlx::Error| format!("cannot verify the audit trail: {e}");
    let pool = store.pool();
    let mut problems = Vec::new();

    for name in TRIGGERS {
        let found: Option<String> =
            sqlx::query_scalar("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?")
                .bind(name)
                .fetch_optional(pool)
                .await
                .map_err(err)?;
        let what = match (found, expected_trigger_sql(name)) {
            (None, _) => format!("trigger {name} is missing: the trail is no longer append-only"),
            (Some(sql), Some(want)) if normalize(&sql) != want => {
                format!("trigger {name} was replaced: it no longer says what its migration wrote")
            }
            _ => continue,
        };
        problems.push(Problem { row: None, what });
    }

    let legacy: i64 = sqlx::query_scalar("SELECT legacy_max_id FROM audit_chain_origin")
        .fetch_one(pool)
        .await
        .map_err(err)?;
    let mut prev = genesis(pool).await.map_err(err)?;

    // One pass over the chain, each entry beside the row it covers (NULLs
    // when the row is gone), streamed: memory does not grow with the trail.
    let mut row_problems = Vec::new();
    let mut covered: std::collections::HashSet<(i64, &'static str)> = Default::default();
    let mut reported_missing = std::collections::HashSet::new();
    let (mut last_seq, mut entries) = (0, 0);
    let mut walk = sqlx::query(
        "SELECT c.seq, c.audit_id, c.event, c.prev_hash, c.hash, a.* \
         FROM audit_chain c LEFT JOIN audit a ON a.id = c.audit_id ORDER BY c.seq",
    )
    .fetch(pool);
    while let Some(e) = walk.try_next().await.map_err(err)? {
        entries += 1;
        let seq: i64 = e.try_get("seq").map_err(err)?;
        let id: i64 = e.try_get("audit_id").map_err(err)?;
        let event_name: String = e.try_get("event").map_err(err)?;
        let prev_hash: String = e.try_get("prev_hash").map_err(err)?;
        let hash: String = e.try_get("hash").map_err(err)?;
        let mut complain = |what: String| row_problems.push(Problem { row: Some(id), what });
        if prev_hash != prev || seq != last_seq + 1 {
            complain(format!(
                "the chain breaks before entry {seq} (row {id}): an entry before it was removed or rewritten"
            ));
        }
        prev = hash.clone();
        last_seq = seq;
        let Some(event) = Event::parse(&event_name) else {
            complain(format!("chain entry {seq} has an unknown event {event_name:?}"));
            continue;
        };
        covered.insert((id, event.as_str()));
        if e.try_get::<Option<i64>, _>("id").map_err(err)?.is_none() {
            if reported_missing.insert(id) {
                complain(format!("row {id} is missing: it was deleted after it was written"));
            }
            continue;
        }
        if link(&prev_hash, &canonical(event, &e).map_err(err)?) != hash {
            complain(format!(
                "row {id} was changed after it was written: its {} record no longer matches its hash",
                event.as_str()
            ));
        }
    }
    drop(walk);
    let counter: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM sqlite_sequence WHERE name = 'audit_chain'")
            .fetch_optional(pool)
            .await
            .map_err(err)?;
    if let Some(counter) = counter.filter(|c| *c > last_seq) {
        row_problems.push(Problem {
            row: None,
            what: format!("the newest chain entries after {last_seq} (up to {counter}) were removed"),
        });
    }

    // Every row since the chain began must be in it, as far as it got.
    let (mut rows, mut legacy_rows) = (0, 0);
    let mut all = sqlx::query("SELECT id, finished_at IS NOT NULL AS finished, run_pid IS NOT NULL AS has_pid FROM audit ORDER BY id")
        .fetch(pool);
    while let Some(row) = all.try_next().await.map_err(err)? {
        let id: i64 = row.try_get("id").map_err(err)?;
        if id <= legacy {
            legacy_rows += 1;
            continue;
        }
        rows += 1;
        let mut complain = |what: String| row_problems.push(Problem { row: Some(id), what });
        if !covered.contains(&(id, "begin")) {
            complain(format!("row {id} was inserted outside opsdeck: it has no entry in the chain"));
            continue;
        }
        if row.try_get::<bool, _>("finished").map_err(err)? && !covered.contains(&(id, "finish")) {
            complain(format!("row {id} was finished outside opsdeck: its outcome is not in the chain"));
        }
        if row.try_get::<bool, _>("has_pid").map_err(err)? && !covered.contains(&(id, "process")) {
            complain(format!("row {id} has a process written outside opsdeck: it is not in the chain"));
        }
    }
    row_problems.sort_by_key(|p| p.row.unwrap_or(i64::MAX));
    problems.extend(row_problems);
    Ok(Verdict { entries, rows, legacy_rows, problems })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guarded_trigger_is_defined_by_a_migration() {
        for name in TRIGGERS {
            let sql = expected_trigger_sql(name).unwrap_or_else(|| panic!("{name}"));
            assert!(sql.starts_with(&format!("CREATE TRIGGER {name} ")) && sql.ends_with(" END"), "{sql}");
        }
    }

    #[test]
    fn the_link_covers_both_the_previous_hash_and_the_record() {
        let a = link("p", "[\"begin\",1]");
        assert_eq!(a.len(), 64);
        assert_ne!(a, link("q", "[\"begin\",1]"));
        assert_ne!(a, link("p", "[\"begin\",2]"));
    }
}
