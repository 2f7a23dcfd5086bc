//! The audit trail: who tried what, on which target, what it would do, how
//! the guard decided, and how the run ended. A row is written before anything
//! runs (no row, no run) and finished after; refusals and cancels are rows
//! too. The table is append-only, enforced by triggers in the schema.

use std::time::Duration;

use sqlx::Row;

use super::run::{Ending, Outcome};
use crate::store::Store;

/// Who is at the keyboard, read from the environment, never from argv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// `USER`, else `LOGNAME`.
    pub os_user: String,
    /// `SUDO_USER`: the person behind a `sudo -s`.
    pub sudo_user: Option<String>,
    /// Client address and port from `SSH_CONNECTION`.
    pub ssh_origin: Option<String>,
    /// The controlling terminal.
    pub tty: Option<String>,
    /// This host.
    pub host: String,
}

impl Operator {
    /// The operator as this process's environment describes them.
    pub fn from_env(host: &str) -> Operator {
        let mut op = Operator::from_lookup(host, |k| std::env::var(k).ok());
        if op.os_user == "unknown" {
            // No USER or LOGNAME (cron, a bare `env -i`): the uid still says who.
            // SAFETY: getuid(2) cannot fail and touches no memory of ours.
            op.os_user = format!("uid {}", unsafe { libc::getuid() });
        }
        op
    }

    /// The operator from any variable lookup (the environment, or a test's map).
    pub fn from_lookup(host: &str, lookup: impl Fn(&str) -> Option<String>) -> Operator {
        let var = |k: &str| lookup(k).filter(|v| !v.is_empty());
        Operator {
            os_user: var("USER").or_else(|| var("LOGNAME")).unwrap_or_else(|| "unknown".into()),
            sudo_user: var("SUDO_USER"),
            // "client_ip client_port server_ip server_port": the first two say who.
            ssh_origin: var("SSH_CONNECTION")
                .map(|c| c.split_whitespace().take(2).collect::<Vec<_>>().join(":")),
            tty: std::fs::read_link("/proc/self/fd/0").ok().map(|p| p.display().to_string()),
            host: host.to_owned(),
        }
    }
}

/// How the guard decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Guard {
    /// The operator confirmed; the action ran.
    Confirmed,
    /// The operator backed out.
    Cancelled,
    /// Read-only mode.
    RefusedReadOnly,
    /// The session was not armed.
    RefusedUnarmed,
    /// A precondition failed at execution time.
    RefusedPrecondition,
    /// Another action is running on the same target.
    RefusedBusy,
    /// The action ran on this target less than its cooldown ago.
    RefusedCooldown,
    /// The pinned target vanished or changed identity.
    AbortedTargetChanged,
}

impl Guard {
    /// The spelling stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Guard::Confirmed => "confirmed",
            Guard::Cancelled => "cancelled",
            Guard::RefusedReadOnly => "refused: read-only",
            Guard::RefusedUnarmed => "refused: not armed",
            Guard::RefusedPrecondition => "refused: precondition",
            Guard::RefusedBusy => "refused: busy",
            Guard::RefusedCooldown => "refused: cooldown",
            Guard::AbortedTargetChanged => "aborted: target changed",
        }
    }
}

/// One precondition as it stood when the guard decided.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedCondition {
    /// As written, e.g. `lag_seconds < 60`.
    pub expr: String,
    /// The live value it was evaluated against.
    pub value: String,
    /// Whether it held.
    pub passed: bool,
}

/// Everything known about an attempt before it runs.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// This opsdeck run's session row.
    pub session_id: Option<i64>,
    /// Who.
    pub operator: Operator,
    /// The action's name.
    pub action: String,
    /// Kind of target (node, alert, replica, backup, log).
    pub target_kind: String,
    /// The target's immutable identity.
    pub target_id: String,
    /// The target's display name.
    pub target_name: String,
    /// What would run: argv, SQL or HTTP request, secrets already masked.
    pub preview: String,
    /// Each precondition with its value.
    pub conditions: Vec<CheckedCondition>,
    /// The guard's decision.
    pub guard: Guard,
    /// A failed precondition was overridden (with a reason).
    pub overridden: bool,
    /// The operator's reason, where the guard asks for one.
    pub reason: Option<String>,
}

/// A row of the trail as read back: the whole record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditRow {
    /// Row id.
    pub id: i64,
    /// RFC 3339.
    pub started_at: String,
    /// The session that wrote it.
    pub session_id: Option<i64>,
    /// `os_user` (and `sudo_user` when set).
    pub who: String,
    /// Client address and port of the SSH session, if any.
    pub ssh_origin: Option<String>,
    /// The controlling terminal.
    pub tty: Option<String>,
    /// The host opsdeck ran on.
    pub host: String,
    /// Action name.
    pub action: String,
    /// Kind of target.
    pub target_kind: String,
    /// The target's identity.
    pub target_id: String,
    /// Target display name.
    pub target_name: String,
    /// The preview as recorded.
    pub preview: String,
    /// Each precondition with its value and result, one per line.
    pub preconditions: String,
    /// The guard's decision as stored.
    pub guard: String,
    /// A failed precondition was overridden.
    #[serde(rename = "override")]
    pub overridden: bool,
    /// The operator's reason.
    pub reason: Option<String>,
    /// How it ended, when it ran and finished.
    pub ending: Option<String>,
    /// When it finished.
    pub finished_at: Option<String>,
    /// How long it ran.
    pub duration_ms: Option<i64>,
    /// Output excerpt, when it ran.
    pub output_excerpt: Option<String>,
    /// The opsdeck that wrote the row is still running on this host.
    #[serde(skip)]
    pub session_alive: bool,
}

impl AuditRow {
    /// The one-word result for lists: the guard's refusal, the run's ending,
    /// "running", or "outcome unknown" for a run whose opsdeck died mid-way.
    pub fn outcome(&self, current_session: Option<i64>) -> String {
        if self.guard != Guard::Confirmed.as_str() {
            return self.guard.clone();
        }
        match (&self.ending, self.session_id == current_session && current_session.is_some()) {
            (Some(ending), _) => ending.clone(),
            (None, true) => "running".into(),
            (None, false) if self.session_alive => "running in another opsdeck".into(),
            (None, false) => "outcome unknown".into(),
        }
    }
}

/// Whether `pid` on this host is an opsdeck now. Two cockpits on one host
/// share the store: one's live run is not the other's "outcome unknown".
/// A recycled pid running something else does not count.
fn opsdeck_alive(pid: i64, host: &str) -> bool {
    let this_host = sysinfo::System::host_name().unwrap_or_default();
    if host != this_host {
        return false; // a store copied from another machine: cannot tell, so do not claim it runs
    }
    std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim_end() == "opsdeck")
}

fn render_conditions(conditions: &[CheckedCondition]) -> String {
    conditions
        .iter()
        .map(|c| format!("{} [{}] {}", c.expr, c.value, if c.passed { "pass" } else { "FAIL" }))
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn ending_text(ending: &Ending) -> String {
    match ending {
        Ending::Exited(code) => format!("exit {code}"),
        Ending::Signalled(sig) => format!("killed by signal {sig}"),
        Ending::TimedOut => "timed out".into(),
        Ending::Cancelled => "cancelled while running".into(),
        Ending::SpawnFailed(why) => format!("did not start: {why}"),
        Ending::Done => "ok".into(),
        Ending::Failed(why) => format!("failed: {why}"),
    }
}

/// Write the row for an attempt, before anything runs. A refusal or cancel
/// is finished in the same write. Returns the row id; an error means the
/// action must not run.
pub async fn begin(store: &Store, a: &Attempt) -> Result<i64, String> {
    let now = jiff::Timestamp::now().to_string();
    let finished_now = (a.guard != Guard::Confirmed).then(|| now.clone());
    let row = sqlx::query(
        "INSERT INTO audit (started_at, session_id, os_user, sudo_user, ssh_origin, tty, host, action, \
         target_kind, target_id, target_name, preview, preconditions, guard, override, reason, finished_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&now)
    .bind(a.session_id)
    .bind(&a.operator.os_user)
    .bind(&a.operator.sudo_user)
    .bind(&a.operator.ssh_origin)
    .bind(&a.operator.tty)
    .bind(&a.operator.host)
    .bind(&a.action)
    .bind(&a.target_kind)
    .bind(&a.target_id)
    .bind(&a.target_name)
    .bind(&a.preview)
    .bind(render_conditions(&a.conditions))
    .bind(a.guard.as_str())
    .bind(a.overridden)
    .bind(&a.reason)
    .bind(finished_now)
    .fetch_one(store.pool())
    .await
    .map_err(|e| format!("cannot write the audit row (the action will not run): {e}"))?;
    row.try_get::<i64, _>("id").map_err(|e| e.to_string())
}

/// Record how a run ended.
pub async fn finish(store: &Store, id: i64, outcome: &Outcome) -> Result<(), String> {
    let duration_ms = i64::try_from(outcome.duration.as_millis()).unwrap_or(i64::MAX);
    sqlx::query(
        "UPDATE audit SET finished_at = ?, ending = ?, duration_ms = ?, output_excerpt = ? WHERE id = ?",
    )
    .bind(jiff::Timestamp::now().to_string())
    .bind(ending_text(&outcome.ending))
    .bind(duration_ms)
    .bind(&outcome.excerpt)
    .bind(id)
    .execute(store.pool())
    .await
    .map(|_| ())
    .map_err(|e| format!("cannot finish audit row {id}: {e}"))
}

macro_rules! columns {
    () => {
        "a.id, a.started_at, a.session_id, a.os_user, a.sudo_user, a.ssh_origin, a.tty, a.host, \
    a.action, a.target_kind, a.target_id, a.target_name, a.preview, a.preconditions, a.guard, \
    a.override, a.reason, a.ending, a.finished_at, a.duration_ms, a.output_excerpt, \
    s.pid AS session_pid, s.ended_at AS session_ended_at \
    FROM audit a LEFT JOIN sessions s ON s.id = a.session_id"
    };
}

/// Rows started within `since` (all when `None`), newest first, at most `limit`.
pub async fn recent(store: &Store, since: Option<Duration>, limit: u32) -> Result<Vec<AuditRow>, String> {
    let cutoff = since
        .and_then(|d| jiff::SignedDuration::try_from(d).ok())
        .and_then(|d| jiff::Timestamp::now().checked_sub(d).ok())
        .map_or_else(String::new, |t| t.to_string());
    let rows =
        sqlx::query(concat!("SELECT ", columns!(), " WHERE a.started_at >= ? ORDER BY a.id DESC LIMIT ?"))
            .bind(cutoff)
            .bind(limit)
            .fetch_all(store.pool())
            .await
            .map_err(|e| format!("cannot read the audit trail: {e}"))?;
    rows.iter()
        .map(from_row)
        .collect::<Result<_, sqlx::Error>>()
        .map_err(|e| format!("cannot read the audit trail: {e}"))
}

/// One row by id.
pub async fn get(store: &Store, id: i64) -> Result<AuditRow, String> {
    let row = sqlx::query(concat!("SELECT ", columns!(), " WHERE a.id = ?"))
        .bind(id)
        .fetch_one(store.pool())
        .await
        .map_err(|e| format!("cannot read audit row {id}: {e}"))?;
    from_row(&row).map_err(|e| format!("cannot read audit row {id}: {e}"))
}

fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<AuditRow, sqlx::Error> {
    let user: String = r.try_get("os_user")?;
    let sudo: Option<String> = r.try_get("sudo_user")?;
    let host: String = r.try_get("host")?;
    let session_pid: Option<i64> = r.try_get("session_pid")?;
    let session_ended: Option<String> = r.try_get("session_ended_at")?;
    let session_alive = session_ended.is_none() && session_pid.is_some_and(|pid| opsdeck_alive(pid, &host));
    Ok(AuditRow {
        session_alive,
        id: r.try_get("id")?,
        started_at: r.try_get("started_at")?,
        session_id: r.try_get("session_id")?,
        who: sudo.map_or_else(|| user.clone(), |s| format!("{s} (as {user})")),
        ssh_origin: r.try_get("ssh_origin")?,
        tty: r.try_get("tty")?,
        host,
        action: r.try_get("action")?,
        target_kind: r.try_get("target_kind")?,
        target_id: r.try_get("target_id")?,
        target_name: r.try_get("target_name")?,
        preview: r.try_get("preview")?,
        preconditions: r.try_get("preconditions")?,
        guard: r.try_get("guard")?,
        overridden: r.try_get("override")?,
        reason: r.try_get("reason")?,
        ending: r.try_get("ending")?,
        finished_at: r.try_get("finished_at")?,
        duration_ms: r.try_get("duration_ms")?,
        output_excerpt: r.try_get("output_excerpt")?,
    })
}

/// Append one event (`"attempt"` or `"finish"`) with the row's whole record
/// to the JSON-lines mirror. One `write` per line on an append-mode file, so
/// two opsdecks mirroring to one file do not interleave inside a line.
pub fn mirror(path: &std::path::Path, event: &str, row: &AuditRow) -> Result<(), String> {
    use std::io::Write;
    let mut value = serde_json::to_value(row).map_err(|e| e.to_string())?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("event".into(), event.into());
    }
    let mut line = value.to_string();
    line.push('\n');
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(line.as_bytes()))
        .map_err(|e| format!("cannot append to the audit mirror {}: {e}", path.display()))
}
