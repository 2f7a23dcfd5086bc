//! Lag from a pt-heartbeat table. `Seconds_Behind_Master` compares the
//! replica's clock with timestamps of the events it applies, so it reads 0
//! while the IO thread is stuck and jumps around with multi-threaded or
//! relayed replication. A row the upstream rewrites every second (pt-heartbeat
//! `--update --utc`: columns `ts` and `server_id`) measures what actually
//! arrived.
//!
//! The difference is taken on the replica's server (`UTC_TIMESTAMP(6)`), not
//! on the machine running opsdeck: the database hosts' clocks are the ones
//! kept in sync with the writer's, an operator's laptop may not be.

use std::time::Duration;

use sqlx::AssertSqlSafe;
use sqlx::mysql::MySqlConnection;

use super::errors;
use super::rows;

/// What one measurement gave.
pub enum Measured {
    /// Now minus the newest heartbeat.
    Lag(Duration),
    /// Why it could not be measured, one line for `Status::warnings`.
    Warning(String),
}

/// `db.table` as a quoted identifier, or `None` when it is not plain
/// letters, digits and `_` (the config checks this; a `Cluster` built in code
/// might not have been).
fn quoted(table: &str) -> Option<String> {
    let (db, tbl) = table.split_once('.')?;
    let plain = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    (plain(db) && plain(tbl)).then(|| format!("`{db}`.`{tbl}`"))
}

/// Measure lag for the channel whose upstream has `upstream_id` (falling back
/// to the newest row of any server when that one has none). A statement error
/// is a warning; only a broken connection is an error.
pub async fn measure(
    conn: &mut MySqlConnection,
    table: &str,
    upstream_id: Option<u64>,
) -> Result<Measured, sqlx::Error> {
    let Some(name) = quoted(table) else {
        return Ok(Measured::Warning(format!("heartbeat table {table:?}: must be db.table")));
    };
    let diff = "TIMESTAMPDIFF(MICROSECOND, MAX(ts), UTC_TIMESTAMP(6)) AS behind_us";
    let mut behind = None;
    if let Some(id) = upstream_id {
        let sql = format!("SELECT {diff} FROM {name} WHERE server_id = ?");
        let query = sqlx::query(AssertSqlSafe(sql)).bind(id);
        behind = match query.fetch_one(&mut *conn).await {
            Ok(row) => rows::text(&row, "behind_us"),
            Err(e) => return failure(table, e),
        };
    }
    if behind.is_none() {
        let query = sqlx::query(AssertSqlSafe(format!("SELECT {diff} FROM {name}")));
        behind = match query.fetch_one(&mut *conn).await {
            Ok(row) => rows::text(&row, "behind_us"),
            Err(e) => return failure(table, e),
        };
    }
    let Some(micros) = behind.and_then(|b| b.parse::<i64>().ok()) else {
        return Ok(Measured::Warning(format!("heartbeat table {table}: no rows (is pt-heartbeat running?)")));
    };
    // A heartbeat from the future is clock skew between the hosts, not negative lag.
    Ok(Measured::Lag(Duration::from_micros(micros.max(0).unsigned_abs())))
}

fn failure(table: &str, e: sqlx::Error) -> Result<Measured, sqlx::Error> {
    if errors::is_missing_table(&e) {
        Ok(Measured::Warning(format!("heartbeat table {table}: does not exist")))
    } else if errors::is_permission(&e) {
        Ok(Measured::Warning(format!("heartbeat table {table}: no permission (grant SELECT on {table})")))
    } else if errors::is_statement_error(&e) {
        Ok(Measured::Warning(format!("heartbeat table {table}: {}", errors::describe(&e, "", None))))
    } else {
        Err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_names_are_quoted() {
        assert_eq!(quoted("percona.heartbeat").as_deref(), Some("`percona`.`heartbeat`"));
        assert_eq!(quoted("a.b`; DROP TABLE x"), None);
        assert_eq!(quoted("heartbeat"), None);
        assert_eq!(quoted(".t"), None);
    }
}
