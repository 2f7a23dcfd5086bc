//! The guarded actions on a standby: promote, pause and resume replay. Each
//! checks the member's role first (refusing on a primary with a clear line
//! rather than the server's "recovery is not in progress"), then verifies
//! the effect, and answers with one line for the audit trail.

use std::time::{Duration, Instant};

use sqlx::pool::PoolConnection;
use sqlx::{Connection, PgConnection, Postgres, Row};

use super::PgMember;
use super::errors::is_permission_denied;
use super::parse::{seconds_text, timeline_from_walfile};

impl PgMember {
    /// `pg_promote(true, wait)`: ends recovery and waits up to `wait` for it,
    /// then checks that the member is out of recovery.
    pub async fn promote(&self, wait: Duration) -> Result<String, String> {
        let mut conn = self.connection().await?;
        self.require_standby(&mut conn, "promote", "is already a primary (not in recovery)").await?;
        // pg_promote waits in whole seconds; round up so it never waits less than asked.
        let wait_s = wait.as_secs_f64().ceil().clamp(1.0, f64::from(i32::MAX)) as i32;
        let started = Instant::now();
        let promoted =
            self.run_promote(&mut conn, wait_s).await.map_err(|e| self.action_error(&e, "pg_promote"))?;
        if !promoted {
            return Err(format!("not promoted within {wait_s} s: still in recovery (see the server log)"));
        }
        let took = started.elapsed();
        if in_recovery(&mut conn).await.map_err(|e| self.explain(&e))? {
            return Err("pg_promote reported success but the server is still in recovery".into());
        }
        let timeline = sqlx::query("SELECT pg_walfile_name(pg_current_wal_lsn()) AS walfile")
            .fetch_one(&mut *conn)
            .await
            .ok()
            .and_then(|row| row.try_get::<String, _>("walfile").ok())
            .and_then(|walfile| timeline_from_walfile(&walfile));
        let on = timeline.map(|t| format!(", now on timeline {t}")).unwrap_or_default();
        Ok(format!("promoted in {}: out of recovery{on}", seconds_text(took.as_secs_f64())))
    }

    /// The promote call in its own transaction, so its longer statement
    /// timeout (the wait plus a margin) ends with it.
    async fn run_promote(&self, conn: &mut PgConnection, wait_s: i32) -> Result<bool, sqlx::Error> {
        let mut tx = conn.begin().await?;
        let timeout = format!("{}s", i64::from(wait_s) + 5);
        sqlx::query("SELECT set_config('statement_timeout', $1, true)")
            .bind(timeout)
            .execute(&mut *tx)
            .await?;
        let row =
            sqlx::query("SELECT pg_promote(true, $1) AS promoted").bind(wait_s).fetch_one(&mut *tx).await?;
        let promoted: bool = row.try_get("promoted")?;
        tx.commit().await?;
        Ok(promoted)
    }

    /// `pg_wal_replay_pause()`: the standby keeps receiving WAL but stops applying it.
    pub async fn pause_replay(&self) -> Result<String, String> {
        let mut conn = self.connection().await?;
        self.require_standby(&mut conn, "pause replay", "is a primary: only a standby replays WAL").await?;
        sqlx::query("SELECT pg_wal_replay_pause()")
            .execute(&mut *conn)
            .await
            .map_err(|e| self.action_error(&e, "pg_wal_replay_pause"))?;
        let (paused, at) = replay_state(&mut conn).await.map_err(|e| self.explain(&e))?;
        if !paused {
            return Err("pg_wal_replay_pause returned but replay is not paused".into());
        }
        Ok(format!("replay paused at {at}"))
    }

    /// `pg_wal_replay_resume()`: the standby applies what it received meanwhile.
    pub async fn resume_replay(&self) -> Result<String, String> {
        let mut conn = self.connection().await?;
        self.require_standby(&mut conn, "resume replay", "is a primary: only a standby replays WAL").await?;
        let (was_paused, at) = replay_state(&mut conn).await.map_err(|e| self.explain(&e))?;
        sqlx::query("SELECT pg_wal_replay_resume()")
            .execute(&mut *conn)
            .await
            .map_err(|e| self.action_error(&e, "pg_wal_replay_resume"))?;
        let (paused, _) = replay_state(&mut conn).await.map_err(|e| self.explain(&e))?;
        if paused {
            return Err("pg_wal_replay_resume returned but replay is still paused".into());
        }
        Ok(if was_paused {
            format!("replay resumed from {at}")
        } else {
            format!("replay was not paused (at {at})")
        })
    }

    /// Refuse `action` unless the member is in recovery.
    async fn require_standby(
        &self,
        conn: &mut PoolConnection<Postgres>,
        action: &str,
        why: &str,
    ) -> Result<(), String> {
        match in_recovery(conn).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!("refused to {action}: {} {why}", self.label())),
            Err(e) => Err(self.explain(&e)),
        }
    }

    /// An action's error, with the grant that would allow it when it was refused.
    fn action_error(&self, err: &sqlx::Error, function: &str) -> String {
        let text = self.explain(err);
        if is_permission_denied(err) {
            format!("{text} (needs superuser or GRANT EXECUTE ON FUNCTION {function})")
        } else {
            text
        }
    }
}

async fn in_recovery(conn: &mut PgConnection) -> Result<bool, sqlx::Error> {
    sqlx::query("SELECT pg_is_in_recovery() AS in_recovery").fetch_one(conn).await?.try_get("in_recovery")
}

/// Whether replay is paused (or a pause is requested) and the replay LSN.
async fn replay_state(conn: &mut PgConnection) -> Result<(bool, String), sqlx::Error> {
    let sql = "SELECT pg_is_wal_replay_paused() AS paused, pg_last_wal_replay_lsn()::text AS replay_lsn";
    let row = sqlx::query(sql).fetch_one(conn).await?;
    let at: Option<String> = row.try_get("replay_lsn")?;
    Ok((row.try_get("paused")?, at.unwrap_or_else(|| "an unknown LSN".into())))
}
