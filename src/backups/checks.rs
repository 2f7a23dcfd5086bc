//! Backup checks in the state store: each verify, restore test and "backup
//! now" run leaves a row, and the tab shows the latest of each per backup.

use std::time::Duration;

use jiff::Timestamp;

use super::findings::Verification;
use crate::store::Store;

/// What was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CheckKind {
    /// Decode and checksum a dump, `restic check`, `pgbackrest verify`.
    Verify,
    /// The configured restore test.
    RestoreTest,
    /// The configured "backup now".
    BackupNow,
}

impl CheckKind {
    /// The stored spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CheckKind::Verify => "verify",
            CheckKind::RestoreTest => "restore_test",
            CheckKind::BackupNow => "backup_now",
        }
    }

    fn parse(s: &str) -> Option<CheckKind> {
        [CheckKind::Verify, CheckKind::RestoreTest, CheckKind::BackupNow]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckRecord {
    /// The catalog's name.
    pub catalog: String,
    /// The backup's id; empty for a check of the whole catalog.
    pub backup_id: String,
    /// What was run.
    pub kind: CheckKind,
    /// Its result.
    pub result: Verification,
}

/// Store one result.
pub async fn record(store: &Store, r: &CheckRecord) -> Result<(), String> {
    sqlx::query(
        "INSERT INTO backup_checks (catalog, backup_id, kind, at, ok, detail, duration_ms) \
         VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&r.catalog)
    .bind(&r.backup_id)
    .bind(r.kind.as_str())
    .bind(r.result.at.to_string())
    .bind(r.result.ok)
    .bind(&r.result.detail)
    .bind(i64::try_from(r.result.duration.as_millis()).unwrap_or(i64::MAX))
    .execute(store.pool())
    .await
    .map(|_| ())
    .map_err(|e| format!("cannot record the backup check: {e}"))
}

/// The latest result of each kind for each backup (and each catalog).
pub async fn latest(store: &Store) -> Result<Vec<CheckRecord>, String> {
    let rows: Vec<(String, String, String, String, bool, String, i64)> = sqlx::query_as(
        "SELECT catalog, backup_id, kind, at, ok, detail, duration_ms FROM backup_checks \
         WHERE id IN (SELECT MAX(id) FROM backup_checks GROUP BY catalog, backup_id, kind)",
    )
    .fetch_all(store.pool())
    .await
    .map_err(|e| format!("cannot read the backup checks: {e}"))?;
    Ok(rows
        .into_iter()
        .filter_map(|(catalog, backup_id, kind, at, ok, detail, ms)| {
            Some(CheckRecord {
                catalog,
                backup_id,
                kind: CheckKind::parse(&kind)?,
                result: Verification {
                    at: at.parse::<Timestamp>().ok()?,
                    ok,
                    detail,
                    duration: Duration::from_millis(u64::try_from(ms).unwrap_or(0)),
                },
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_latest_check_of_each_kind_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let store = Store::open(&path).await.unwrap();
        let check = |id: &str, kind, ok, at: &str| CheckRecord {
            catalog: "dumps".into(),
            backup_id: id.into(),
            kind,
            result: Verification {
                at: at.parse().unwrap(),
                ok,
                detail: if ok { "ok".into() } else { "gzip: truncated".into() },
                duration: Duration::from_millis(1500),
            },
        };
        record(&store, &check("a.sql.gz", CheckKind::Verify, false, "2026-11-22T01:00:00Z")).await.unwrap();
        record(&store, &check("a.sql.gz", CheckKind::Verify, true, "2026-11-22T02:00:00Z")).await.unwrap();
        record(&store, &check("", CheckKind::RestoreTest, true, "2026-11-22T03:00:00Z")).await.unwrap();
        store.close().await;
        let store = Store::open(&path).await.unwrap();
        let mut got = latest(&store).await.unwrap();
        got.sort_by(|a, b| a.backup_id.cmp(&b.backup_id));
        assert_eq!(
            got,
            vec![
                check("", CheckKind::RestoreTest, true, "2026-11-22T03:00:00Z"),
                check("a.sql.gz", CheckKind::Verify, true, "2026-11-22T02:00:00Z"),
            ]
        );
    }
}
