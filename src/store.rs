//! The state store: one SQLite file in the platform data dir, WAL mode,
//! migrations embedded in the binary and applied on open. Opened off the
//! first frame's path; a store that cannot open is a failing source in the
//! status bar, never a crash.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// The name this source has in the status bar.
pub const SOURCE: &str = "store";

/// The open store.
#[derive(Debug, Clone)]
pub struct Store {
    pool: SqlitePool,
}

/// What the app is told once the store is open.
#[derive(Debug, Clone)]
pub struct StoreInfo {
    /// The database file.
    pub path: PathBuf,
    /// This run's row in `sessions`.
    pub session_id: i64,
    /// The store itself, for later writes.
    pub store: Store,
}

/// Who is running opsdeck, recorded with the session.
#[derive(Debug, Clone)]
pub struct SessionInfo<'a> {
    /// Host name.
    pub host: &'a str,
    /// OS user name.
    pub os_user: &'a str,
    /// Whether mutating actions are refused.
    pub read_only: bool,
}

impl Store {
    /// Open (creating file and parent dir if needed) and migrate.
    pub async fn open(path: &Path) -> Result<Store, String> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let opts = SqliteConnectOptions::from_str("sqlite:")
            .map_err(|e| e.to_string())?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(5));
        // Two opsdecks on one host share the file; one connection each is plenty.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| format!("cannot migrate {}: {e}", path.display()))?;
        Ok(Store { pool })
    }

    /// The pool, for the modules that own their tables (the audit trail).
    pub(crate) fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// Record the start of this run; returns the session id.
    pub async fn begin_session(&self, who: &SessionInfo<'_>) -> Result<i64, String> {
        let row: (i64,) = sqlx::query_as(
            "INSERT INTO sessions (started_at, version, host, os_user, read_only, pid) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(now_rfc3339())
        .bind(env!("CARGO_PKG_VERSION"))
        .bind(who.host)
        .bind(who.os_user)
        .bind(who.read_only)
        .bind(std::process::id())
        .fetch_one(&self.pool)
        .await
        .map_err(|e| format!("cannot record session: {e}"))?;
        Ok(row.0)
    }

    /// Record the end of a run.
    pub async fn end_session(&self, id: i64) -> Result<(), String> {
        sqlx::query("UPDATE sessions SET ended_at = ? WHERE id = ?")
            .bind(now_rfc3339())
            .bind(id)
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(|e| format!("cannot close session: {e}"))
    }

    /// The journal mode in effect (for tests and `config check`).
    pub async fn journal_mode(&self) -> Result<String, String> {
        let row: (String,) =
            sqlx::query_as("PRAGMA journal_mode").fetch_one(&self.pool).await.map_err(|e| e.to_string())?;
        Ok(row.0)
    }

    /// Close the pool, flushing the WAL.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Open the store and record the session, as one step for the app.
pub async fn open_and_begin(path: PathBuf, who: SessionInfo<'_>) -> Result<StoreInfo, String> {
    let store = Store::open(&path).await?;
    let session_id = store.begin_session(&who).await?;
    Ok(StoreInfo { path, session_id, store })
}

/// The default location: `<data dir>/state.db`.
pub fn default_path() -> Option<PathBuf> {
    crate::config::paths::data_dir().map(|d| d.join("state.db"))
}

fn now_rfc3339() -> String {
    jiff::Timestamp::now().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn creates_migrates_and_records_sessions_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nested/state.db");
        let who = SessionInfo { host: "h", os_user: "u", read_only: true };
        let info = open_and_begin(path.clone(), who.clone()).await.unwrap();
        assert!(path.exists());
        assert_eq!(info.store.journal_mode().await.unwrap(), "wal");
        info.store.end_session(info.session_id).await.unwrap();
        info.store.close().await;

        // Reopening runs no migration twice and keeps the history.
        let again = open_and_begin(path, who).await.unwrap();
        assert_eq!(again.session_id, info.session_id + 1);
        let (ended, ro): (Option<String>, bool) =
            sqlx::query_as("SELECT ended_at, read_only FROM sessions WHERE id = ?")
                .bind(info.session_id)
                .fetch_one(&again.store.pool)
                .await
                .unwrap();
        assert!(ended.is_some());
        assert!(ro);
    }

    #[tokio::test]
    async fn an_unwritable_location_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("plain-file");
        std::fs::write(&file, "x").unwrap();
        let err = Store::open(&file.join("state.db")).await.unwrap_err();
        assert!(err.contains("cannot create"), "{err}");
    }
}
