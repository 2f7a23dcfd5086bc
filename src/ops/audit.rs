//! The audit trail: who tried what, on which target, what it would do, how
//! the guard decided, and how the run ended. A row is written before anything
//! runs (no row, no run) and finished after; refusals and cancels are rows
//! too. The table is append-only, enforced by triggers in the schema.

use std::time::Duration;

use sqlx::Row;

use super::identity;
use super::run::Ending;
use crate::store::Store;

pub use super::audit_write::{Begun, begin, begin_checked, finish, record_process};
pub use super::identity::{Claimed, Operator};

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
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct AuditRow {
    /// Row id.
    pub id: i64,
    /// RFC 3339.
    pub started_at: String,
    /// The session that wrote it.
    pub session_id: Option<i64>,
    /// Who, as the kernel said: the real user, and the login user when it
    /// differs. For a row from before opsdeck recorded it: the claimed
    /// user, marked "(claimed)".
    pub who: String,
    /// The real uid.
    pub uid: Option<i64>,
    /// The login user (`/proc/self/loginuid`), when set.
    pub login_user: Option<String>,
    /// The SSH client, read from the session's sshd ancestor.
    pub ssh_origin: Option<String>,
    /// `USER`/`LOGNAME` as the environment claimed it.
    pub claimed_user: Option<String>,
    /// `SUDO_USER` as the environment claimed it.
    pub claimed_sudo_user: Option<String>,
    /// `SSH_CONNECTION`'s client as the environment claimed it.
    pub claimed_ssh_origin: Option<String>,
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
    /// The supervisor process that ran it.
    pub run_pid: Option<i64>,
    /// The opsdeck that wrote the row is still running on this host.
    #[serde(skip)]
    pub session_alive: bool,
    /// The row's supervisor (same pid, same start time) is still running here.
    #[serde(skip)]
    pub process_alive: bool,
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
            (None, false) if self.process_alive => "running, its opsdeck gone".into(),
            (None, false) => "outcome unknown".into(),
        }
    }

    /// The environment's claims, marked as such, when they say anything
    /// the recorded identity does not.
    pub fn claims(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(u) =
            self.claimed_user.as_deref().filter(|u| !self.who.starts_with(&format!("{u} ")) && self.who != *u)
        {
            parts.push(format!("USER={u}"));
        }
        if let Some(s) = &self.claimed_sudo_user {
            parts.push(format!("SUDO_USER={s}"));
        }
        if let Some(o) = self.claimed_ssh_origin.as_ref().filter(|o| self.ssh_origin.as_ref() != Some(*o)) {
            parts.push(format!("SSH_CONNECTION from {o}"));
        }
        (!parts.is_empty()).then(|| format!("claimed (unverified): {}", parts.join(", ")))
    }
}

/// Whether `pid` on this host is an opsdeck now. Two cockpits on one host
/// share the store: one's live run is not the other's "outcome unknown".
/// A recycled pid running something else does not count.
pub(super) fn opsdeck_alive(pid: i64, host: &str) -> bool {
    if !this_host(host) {
        return false; // a store copied from another machine: cannot tell, so do not claim it runs
    }
    // A zombie (killed, not yet reaped by its parent) is not running.
    let alive = i32::try_from(pid).ok().and_then(identity::start_time).is_some();
    alive
        && std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|comm| comm.trim_end() == "opsdeck")
}

pub(super) fn this_host(host: &str) -> bool {
    sysinfo::System::host_name().is_ok_and(|h| h == host)
}

pub(super) fn render_conditions(conditions: &[CheckedCondition]) -> String {
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

/// The hash of the newest chain entry for row `id`, for the mirror.
pub async fn chain_hash(store: &Store, id: i64) -> Option<String> {
    sqlx::query_scalar("SELECT hash FROM audit_chain WHERE audit_id = ? ORDER BY seq DESC LIMIT 1")
        .bind(id)
        .fetch_optional(store.pool())
        .await
        .ok()
        .flatten()
}

macro_rules! columns {
    () => {
        "a.*, s.pid AS session_pid, s.ended_at AS session_ended_at \
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

/// The recorded identity in words: the real user, the login user when it
/// differs; a row from before either was recorded shows its claim, marked.
fn who(r: &sqlx::sqlite::SqliteRow) -> Result<String, sqlx::Error> {
    let uid: Option<i64> = r.try_get("real_uid")?;
    let user: Option<String> = r.try_get("real_user")?;
    let login_uid: Option<i64> = r.try_get("login_uid")?;
    let login_user: Option<String> = r.try_get("login_user")?;
    let Some(uid) = uid else {
        let claimed: Option<String> = r.try_get("claimed_user")?;
        return Ok(format!("{} (claimed)", claimed.unwrap_or_else(|| "unknown".into())));
    };
    let mut who = user.unwrap_or_else(|| format!("uid {uid}"));
    if let Some(login) = login_uid.filter(|l| *l != uid) {
        who.push_str(&format!(" (login {})", login_user.unwrap_or_else(|| format!("uid {login}"))));
    }
    Ok(who)
}

fn from_row(r: &sqlx::sqlite::SqliteRow) -> Result<AuditRow, sqlx::Error> {
    let host: String = r.try_get("host")?;
    let session_pid: Option<i64> = r.try_get("session_pid")?;
    let session_ended: Option<String> = r.try_get("session_ended_at")?;
    let session_alive = session_ended.is_none() && session_pid.is_some_and(|pid| opsdeck_alive(pid, &host));
    let run_pid: Option<i64> = r.try_get("run_pid")?;
    let run_start: Option<i64> = r.try_get("run_pid_start")?;
    let process_alive = this_host(&host)
        && matches!((run_pid, run_start), (Some(p), Some(s)) if identity::process_alive(p, s));
    Ok(AuditRow {
        session_alive,
        process_alive,
        id: r.try_get("id")?,
        started_at: r.try_get("started_at")?,
        session_id: r.try_get("session_id")?,
        who: who(r)?,
        uid: r.try_get("real_uid")?,
        login_user: r.try_get("login_user")?,
        ssh_origin: r.try_get("ssh_peer")?,
        claimed_user: r.try_get::<Option<String>, _>("claimed_user")?.filter(|u| !u.is_empty()),
        claimed_sudo_user: r.try_get("claimed_sudo_user")?,
        claimed_ssh_origin: r.try_get("claimed_ssh_origin")?,
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
        run_pid,
    })
}

/// Append one event (`"attempt"` or `"finish"`) with the row's whole record
/// to the JSON-lines mirror. One `write` per line on an append-mode file, so
/// two opsdecks mirroring to one file do not interleave inside a line.
/// `chain_hash` is the row's newest chain hash: a copy shipped off the host
/// pins the chain as it was.
pub fn mirror(
    path: &std::path::Path,
    event: &str,
    row: &AuditRow,
    chain_hash: Option<&str>,
) -> Result<(), String> {
    use std::io::Write;
    let mut value = serde_json::to_value(row).map_err(|e| e.to_string())?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert("event".into(), event.into());
        obj.insert("chain_hash".into(), chain_hash.into());
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
