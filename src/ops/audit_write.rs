//! Writing the audit trail: every write is one immediate transaction,
//! chained (see `audit_chain`) and committed with the WAL fsynced, and its
//! commit is checked, so a row reported written is on disk and a write that
//! fails (a full disk) is an error, never a row id that does not exist.

use sqlx::Row;

use super::audit::{Attempt, Guard, ending_text, opsdeck_alive, render_conditions, this_host};
use super::audit_chain as chain;
use super::identity;
use super::run::Outcome;
use crate::store::Store;

/// Run `$write` (an expression using the transaction `$tx`) in an
/// immediate transaction, committed with the WAL fsynced; evaluates to
/// `Result<_, sqlx::Error>`, the commit's error included.
macro_rules! durably {
    ($store:expr, |$tx:ident| $write:expr) => {{
        use sqlx::Connection;
        async {
            let mut conn = $store.pool().acquire().await?;
            sqlx::query("PRAGMA synchronous = FULL").execute(&mut *conn).await?;
            let result = async {
                // IMMEDIATE: the write lock first, so the busy check and the
                // insert see the same trail as every other opsdeck on this store.
                let mut $tx = conn.begin_with("BEGIN IMMEDIATE").await?;
                let value = $write;
                $tx.commit().await?;
                Ok::<_, sqlx::Error>(value)
            }
            .await;
            if result.is_err() {
                // A failed commit (a full disk) can leave the connection
                // mid-transaction; the pool opens a fresh one instead.
                conn.close_on_drop();
            } else {
                // Back to the store's default for everything else.
                let _ = sqlx::query("PRAGMA synchronous = NORMAL").execute(&mut *conn).await;
            }
            result
        }
        .await
    }};
}

/// What [`begin_checked`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Begun {
    /// The row id.
    pub id: i64,
    /// The guard as recorded: the attempt's, or [`Guard::RefusedBusy`] when
    /// an unfinished run on the same target is still alive.
    pub guard: Guard,
    /// That run, in words, when it refused this one.
    pub busy_with: Option<String>,
}

/// Write the row for an attempt, before anything runs. A refusal or cancel
/// is finished in the same write. Returns the row id; an error means the
/// action must not run.
pub async fn begin(store: &Store, a: &Attempt) -> Result<i64, String> {
    begin_checked(store, a).await.map(|b| b.id)
}

/// [`begin`], and for a confirmed attempt the busy check against every
/// opsdeck sharing the store, in one transaction: a run on the same target
/// whose row is unfinished and whose supervisor still lives refuses this one
/// (recorded as such). The row is committed with `synchronous = FULL` (the
/// WAL is fsynced) and the commit checked: `Ok` means the row is on disk.
pub async fn begin_checked(store: &Store, a: &Attempt) -> Result<Begun, String> {
    durably!(store, |tx| write_begin(&mut tx, a).await?)
        .map_err(|e| format!("cannot write the audit row (the action will not run): {e}"))
}

async fn write_begin(conn: &mut sqlx::SqliteConnection, a: &Attempt) -> Result<Begun, sqlx::Error> {
    let busy_with = if a.guard == Guard::Confirmed { live_run_on(conn, &a.target_id).await? } else { None };
    let guard = if busy_with.is_some() { Guard::RefusedBusy } else { a.guard };
    let now = jiff::Timestamp::now().to_string();
    let finished_now = (guard != Guard::Confirmed).then(|| now.clone());
    let op = &a.operator;
    let id = sqlx::query(
        "INSERT INTO audit (started_at, session_id, claimed_user, claimed_sudo_user, claimed_ssh_origin, \
         tty, host, action, target_kind, target_id, target_name, preview, preconditions, guard, override, \
         reason, finished_at, real_uid, real_user, login_uid, login_user, ssh_peer) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(&now)
    .bind(a.session_id)
    // NOT NULL from when it was the identity: no claim is stored as ''.
    .bind(op.claimed.user.as_deref().unwrap_or_default())
    .bind(&op.claimed.sudo_user)
    .bind(&op.claimed.ssh_origin)
    .bind(&op.tty)
    .bind(&op.host)
    .bind(&a.action)
    .bind(&a.target_kind)
    .bind(&a.target_id)
    .bind(&a.target_name)
    .bind(&a.preview)
    .bind(render_conditions(&a.conditions))
    .bind(guard.as_str())
    .bind(a.overridden)
    .bind(&a.reason)
    .bind(finished_now.as_ref())
    .bind(i64::from(op.uid))
    .bind(&op.os_user)
    .bind(op.login_uid.map(i64::from))
    .bind(&op.login_user)
    .bind(&op.ssh_peer)
    .execute(&mut *conn)
    .await?
    .last_insert_rowid();
    chain::append(conn, id, chain::Event::Begin).await?;
    if finished_now.is_some() {
        chain::append(conn, id, chain::Event::Finish).await?;
    }
    Ok(Begun { id, guard, busy_with })
}

/// An unfinished confirmed run on `target_id` that is still alive on this
/// host, described for the refusal: its supervisor runs (same pid, same
/// start time), or no process is recorded yet and the opsdeck that wrote it
/// is running (it is about to start it, or runs a built-in action).
async fn live_run_on(
    conn: &mut sqlx::SqliteConnection,
    target_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT a.id, a.host, a.action, a.run_pid, a.run_pid_start, s.pid AS session_pid, \
         s.ended_at AS session_ended_at FROM audit a LEFT JOIN sessions s ON s.id = a.session_id \
         WHERE a.target_id = ? AND a.finished_at IS NULL AND a.guard = 'confirmed' ORDER BY a.id",
    )
    .bind(target_id)
    .fetch_all(&mut *conn)
    .await?;
    for r in rows {
        let host: String = r.try_get("host")?;
        if !this_host(&host) {
            continue;
        }
        let id: i64 = r.try_get("id")?;
        let action: String = r.try_get("action")?;
        match (r.try_get::<Option<i64>, _>("run_pid")?, r.try_get::<Option<i64>, _>("run_pid_start")?) {
            (Some(pid), Some(start)) if identity::process_alive(pid, start) => {
                return Ok(Some(format!("{action} (audit row #{id}) still runs as pid {pid}")));
            }
            (Some(_), _) => {}
            (None, _) => {
                let pid: Option<i64> = r.try_get("session_pid")?;
                let ended: Option<String> = r.try_get("session_ended_at")?;
                if let Some(pid) = pid.filter(|p| ended.is_none() && opsdeck_alive(*p, &host)) {
                    return Ok(Some(format!("{action} (audit row #{id}) is running in opsdeck pid {pid}")));
                }
            }
        }
    }
    Ok(None)
}

/// Record the process that runs row `id`'s action (its pid and start time),
/// once, chained.
pub async fn record_process(store: &Store, id: i64, pid: i64, start: i64) -> Result<(), String> {
    durably!(store, |tx| {
        sqlx::query("UPDATE audit SET run_pid = ?, run_pid_start = ? WHERE id = ? AND run_pid IS NULL")
            .bind(pid)
            .bind(start)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        chain::append(&mut tx, id, chain::Event::Process).await?
    })
    .map(|_| ())
    .map_err(|e| format!("cannot record the process of audit row {id}: {e}"))
}

/// Record how a run ended.
pub async fn finish(store: &Store, id: i64, outcome: &Outcome) -> Result<(), String> {
    let duration_ms = i64::try_from(outcome.duration.as_millis()).unwrap_or(i64::MAX);
    let ending = ending_text(&outcome.ending);
    durably!(store, |tx| {
        sqlx::query(
            "UPDATE audit SET finished_at = ?, ending = ?, duration_ms = ?, output_excerpt = ? WHERE id = ?",
        )
        .bind(jiff::Timestamp::now().to_string())
        .bind(&ending)
        .bind(duration_ms)
        .bind(&outcome.excerpt)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        chain::append(&mut tx, id, chain::Event::Finish).await?
    })
    .map(|_| ())
    .map_err(|e| format!("cannot finish audit row {id}: {e}"))
}
