//! The Backups tab's guarded actions: verify (a dump file decoded to its end
//! and checked against its sidecar; `restic check`; `pgbackrest verify`),
//! and the configured "backup now" and "restore test" commands. Each result
//! is stored as a backup check, so the catalog shows when a backup was last
//! proven good.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::catalog::{ActionDef, Exec};
use super::guard::Tier;
use super::precondition::FieldValue;
use super::run::{self, Ending, Outcome, RunSpec, Stream};
use super::target::{Probe, Target};
use crate::backups::checks::{self, CheckKind, CheckRecord};
use crate::backups::findings::Verification;
use crate::backups::model::{Backup, Checksum};
use crate::config::actions::TargetKind;
use crate::config::backups::{BackupKind, BackupSource};
use crate::sources::backups::tool::{ToolRun, effective_argv};
use crate::store::Store;

/// Progress lines at most this often: a run view is read, not flooded.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// What a backup action does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupOp {
    /// Prove a backup (or the repository) readable and intact.
    Verify,
    /// Run the catalog's `backup_command`.
    BackupNow,
    /// Run the catalog's `restore_test_command`.
    RestoreTest,
}

impl BackupOp {
    fn check_kind(self) -> CheckKind {
        match self {
            BackupOp::Verify => CheckKind::Verify,
            BackupOp::BackupNow => CheckKind::BackupNow,
            BackupOp::RestoreTest => CheckKind::RestoreTest,
        }
    }

    /// Whether it can be aimed at a target with these fields.
    pub fn applies(self, fields: &BTreeMap<String, FieldValue>) -> bool {
        let yes = |k: &str| fields.get(k) == Some(&FieldValue::Bool(true));
        match self {
            BackupOp::Verify => yes("verifiable"),
            BackupOp::BackupNow => yes("has_backup_command"),
            BackupOp::RestoreTest => yes("has_restore_test"),
        }
    }
}

/// The built-in backup actions, when any catalog is configured that they serve.
pub fn action_defs(catalogs: &[BackupSource]) -> Vec<ActionDef> {
    let listed: Vec<BackupSource> =
        catalogs.iter().filter(|c| c.kind != BackupKind::Sqlite).cloned().collect();
    if listed.is_empty() {
        return Vec::new();
    }
    let shared = Arc::new(listed);
    let def = |name: &str, label: &str, op, guard, mutating, timeout| ActionDef {
        name: name.into(),
        label: label.into(),
        applies_to: TargetKind::Backup,
        guard,
        preconditions: Vec::new(),
        overridable: false,
        overridable_conditions: Vec::new(),
        mutating,
        timeout,
        cooldown: None,
        key: None,
        needs_reason: false,
        exec: Exec::Backup(op, Arc::clone(&shared)),
    };
    let mut out = vec![def(
        "verify_backup",
        "Verify (decode to the end and compare the checksum; restic check; pgbackrest verify)",
        BackupOp::Verify,
        // Reads only: no arming, allowed in read-only mode.
        Tier::Confirm,
        false,
        Duration::from_secs(6 * 3600),
    )];
    if shared.iter().any(|c| c.backup_command.is_some()) {
        out.push(def(
            "backup_now",
            "Back up now (the catalog's backup_command)",
            BackupOp::BackupNow,
            Tier::Confirm,
            true,
            Duration::from_secs(6 * 3600),
        ));
    }
    if shared.iter().any(|c| c.restore_test_command.is_some()) {
        out.push(def(
            "restore_test",
            "Restore test (the catalog's restore_test_command)",
            BackupOp::RestoreTest,
            Tier::TypeNameReason,
            true,
            Duration::from_secs(12 * 3600),
        ));
    }
    out
}

/// A catalog as an action target: verify (tools), backup now, restore test.
pub fn catalog_target(c: &BackupSource, backups: Option<usize>, readable: bool) -> Target {
    let text = |s: &str| FieldValue::Text(s.to_owned());
    let mut fields = BTreeMap::from([
        ("name".to_owned(), text(&c.name)),
        ("catalog".to_owned(), text(&c.name)),
        ("kind".to_owned(), text(c.kind.as_str())),
        ("readable".to_owned(), FieldValue::Bool(readable)),
        (
            "verifiable".to_owned(),
            FieldValue::Bool(matches!(c.kind, BackupKind::Restic | BackupKind::Pgbackrest)),
        ),
        ("has_backup_command".to_owned(), FieldValue::Bool(c.backup_command.is_some())),
        ("has_restore_test".to_owned(), FieldValue::Bool(c.restore_test_command.is_some())),
    ]);
    if let Some(n) = backups {
        fields.insert("backups".into(), FieldValue::Number(n as f64));
    }
    Target {
        kind: TargetKind::Backup,
        id: format!("catalog:{}", c.name),
        name: c.name.clone(),
        fields,
        probe: Probe::AppData,
    }
}

/// One dump file as an action target: verify. Pinned by path and size, so a
/// file rewritten in place is a different backup.
pub fn file_target(catalog: &str, b: &Backup) -> Option<Target> {
    let path = b.path.clone()?;
    let text = |s: &str| FieldValue::Text(s.to_owned());
    let mut fields = BTreeMap::from([
        ("name".to_owned(), text(&b.id)),
        ("catalog".to_owned(), text(catalog)),
        ("backup".to_owned(), text(&b.id)),
        ("path".to_owned(), text(&path.to_string_lossy())),
        ("verifiable".to_owned(), FieldValue::Bool(true)),
        ("has_checksum".to_owned(), FieldValue::Bool(b.checksum.is_some())),
        ("exists".to_owned(), FieldValue::Bool(true)),
    ]);
    if let Some(s) = b.size {
        fields.insert("size_bytes".into(), FieldValue::Number(s as f64));
    }
    if let Some(c) = &b.checksum {
        fields.insert("checksum".into(), text(&format!("{}:{}", c.algorithm.as_str(), c.hex)));
        fields.insert("sidecar".into(), text(&c.sidecar.to_string_lossy()));
    }
    Some(Target {
        kind: TargetKind::Backup,
        id: file_id(catalog, &b.id, b.size.unwrap_or(0)),
        name: b.id.clone(),
        fields,
        probe: Probe::BackupFile { path, catalog: catalog.to_owned(), backup: b.id.clone() },
    })
}

/// A dump file's identity: catalog, relative path and size.
pub fn file_id(catalog: &str, backup: &str, size: u64) -> String {
    format!("file:{catalog}:{backup}@{size}")
}

/// What a backup action will do, made concrete.
#[derive(Debug, Clone, PartialEq)]
pub enum BackupPlan {
    /// Decode a dump file to its end and compare its sidecar.
    VerifyFile {
        /// The catalog.
        catalog: String,
        /// The backup's id in it.
        backup: String,
        /// The file.
        path: PathBuf,
        /// The sidecar's promise, if any.
        checksum: Option<Checksum>,
    },
    /// Run a tool or a configured command; its exit code is the result.
    Command {
        /// The catalog.
        catalog: Box<BackupSource>,
        /// What kind of check it records.
        op: BackupOp,
        /// The argv, already wrapped for `run_as`.
        argv: Vec<String>,
    },
}

/// Make `op` concrete for `target`.
pub fn prepare(
    op: BackupOp,
    catalogs: &[BackupSource],
    target: &Target,
) -> Result<super::plan::Plan, String> {
    let name = match target.fields.get("catalog") {
        Some(FieldValue::Text(n)) => n.clone(),
        _ => return Err("the target names no catalog".into()),
    };
    let catalog =
        catalogs.iter().find(|c| c.name == name).ok_or_else(|| format!("no catalog named {name:?}"))?;
    if !op.applies(&target.fields) {
        return Err(format!("{} does not apply to {}", op_name(op), target.name));
    }
    let plan = match (op, &target.probe) {
        (BackupOp::Verify, Probe::BackupFile { path, backup, .. }) => BackupPlan::VerifyFile {
            catalog: name,
            backup: backup.clone(),
            path: path.clone(),
            checksum: target_checksum(target),
        },
        (BackupOp::Verify, _) => {
            let argv = match catalog.kind {
                BackupKind::Restic => crate::sources::backups::restic::check_argv(catalog),
                BackupKind::Pgbackrest => crate::sources::backups::pgbackrest::verify_argv(catalog),
                other => return Err(format!("a {} catalog has no repository check", other.as_str())),
            };
            command(catalog, op, argv)
        }
        (BackupOp::BackupNow, _) => command(catalog, op, catalog.backup_command.clone().unwrap_or_default()),
        (BackupOp::RestoreTest, _) => {
            command(catalog, op, catalog.restore_test_command.clone().unwrap_or_default())
        }
    };
    Ok(super::plan::Plan::Backup(plan))
}

fn op_name(op: BackupOp) -> &'static str {
    match op {
        BackupOp::Verify => "verify",
        BackupOp::BackupNow => "backup now",
        BackupOp::RestoreTest => "restore test",
    }
}

/// The checksum travels in the target's fields as `<algorithm>:<hex>`.
fn target_checksum(target: &Target) -> Option<Checksum> {
    let Some(FieldValue::Text(s)) = target.fields.get("checksum") else { return None };
    let Some(FieldValue::Text(side)) = target.fields.get("sidecar") else { return None };
    let (algo, hex) = s.split_once(':')?;
    let algorithm = match algo {
        "sha256" => crate::backups::model::ChecksumAlgorithm::Sha256,
        "md5" => crate::backups::model::ChecksumAlgorithm::Md5,
        _ => return None,
    };
    Some(Checksum { algorithm, hex: hex.to_owned(), sidecar: PathBuf::from(side) })
}

fn command(catalog: &BackupSource, op: BackupOp, argv: Vec<String>) -> BackupPlan {
    let run = ToolRun { argv, env: Vec::new(), run_as: catalog.run_as.clone(), timeout: catalog.timeout };
    BackupPlan::Command { catalog: Box::new(catalog.clone()), op, argv: effective_argv(&run) }
}

impl BackupPlan {
    /// What the dialog shows and the audit row records (no secret: env values are read at run time).
    pub fn preview(&self) -> String {
        match self {
            BackupPlan::VerifyFile { path, checksum, .. } => {
                let sum = match checksum {
                    Some(c) => format!(", compare {} with {}", c.algorithm.as_str(), c.sidecar.display()),
                    None => ", no checksum sidecar to compare".to_owned(),
                };
                format!("read {} to its end, decoding its compression{sum}", path.display())
            }
            BackupPlan::Command { catalog, argv, .. } => {
                let mut out = format!(
                    "run: {}",
                    argv.iter().map(|a| super::plan::quote(a)).collect::<Vec<_>>().join(" ")
                );
                if catalog.kind == BackupKind::Restic {
                    out.push_str("\nenv: RESTIC_REPOSITORY=••••\nenv: RESTIC_PASSWORD=••••");
                }
                out.push_str(&format!(
                    "\ntimeout: {}",
                    humantime::format_duration(catalog.timeout.max(Duration::from_secs(60)))
                ));
                out
            }
        }
    }

    /// Carry it out, then store the result as a backup check.
    pub async fn execute(
        &self,
        timeout: Duration,
        cancel: &CancellationToken,
        lines: &mpsc::Sender<(Stream, String)>,
        store: Option<&Store>,
    ) -> Outcome {
        let started = Instant::now();
        let (catalog, backup, kind, outcome) = match self {
            BackupPlan::VerifyFile { catalog, backup, path, checksum } => {
                let outcome = verify_file(path, checksum.clone(), timeout, cancel, lines).await;
                (catalog.clone(), backup.clone(), CheckKind::Verify, outcome)
            }
            BackupPlan::Command { catalog, op, argv } => {
                let env = match tool_env(catalog).await {
                    Ok(env) => env,
                    Err(e) => return failed(started, e),
                };
                let spec = RunSpec { argv: argv.clone(), timeout, cwd: None, env, stdin: None };
                let mut outcome = run::run(&spec, cancel, lines).await;
                if *op == BackupOp::Verify && catalog.kind == BackupKind::Pgbackrest {
                    judge_pgbackrest_verify(&mut outcome);
                }
                (catalog.name.clone(), String::new(), op.check_kind(), outcome)
            }
        };
        // A cancelled check proves nothing either way: not recorded.
        if outcome.ending != Ending::Cancelled
            && let Some(store) = store
        {
            let record = CheckRecord {
                catalog,
                backup_id: backup,
                kind,
                result: Verification {
                    at: jiff::Timestamp::now(),
                    ok: outcome.ending.succeeded(),
                    detail: summary(&outcome),
                    duration: outcome.duration,
                },
            };
            if let Err(e) = checks::record(store, &record).await {
                tracing::error!("{e}");
            }
        }
        outcome
    }
}

/// `pgbackrest verify` exits 0 even when the repository fails to verify; its
/// text report says so. A failed report turns the run into a failure.
fn judge_pgbackrest_verify(outcome: &mut Outcome) {
    if outcome.ending != Ending::Exited(0) {
        return;
    }
    let out = crate::sources::backups::tool::ToolOutput {
        code: Some(0),
        stdout: outcome.excerpt.clone().into_bytes(),
        stderr: String::new(),
    };
    if let Err(e) = crate::sources::backups::pgbackrest::verify_outcome(&out) {
        outcome.ending = Ending::Failed(e.to_string());
    }
}

/// The environment a tool needs (restic's repository and password,
/// pgBackRest's cipher passphrase), read now, at run time.
async fn tool_env(catalog: &BackupSource) -> Result<Vec<(String, String)>, String> {
    let env = match catalog.kind {
        BackupKind::Restic => crate::sources::backups::restic::env(catalog).await,
        BackupKind::Pgbackrest => {
            crate::sources::backups::pgbackrest::verify_run(catalog).await.map(|r| r.env)
        }
        _ => Ok(Vec::new()),
    };
    env.map(|env| env.into_iter().map(|(k, v)| (k, v.expose().to_owned())).collect())
        .map_err(|e| e.to_string())
}

/// One line for the catalog: the last line of output, or how it ended.
fn summary(o: &Outcome) -> String {
    let last = o.excerpt.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or_default();
    let line = match &o.ending {
        Ending::Done | Ending::Exited(0) if !last.is_empty() => last.to_owned(),
        Ending::Done | Ending::Exited(0) => "ok".to_owned(),
        Ending::Exited(code) => format!("exit code {code}: {last}"),
        Ending::Failed(e) => e.clone(),
        Ending::TimedOut => "timed out".to_owned(),
        Ending::Signalled(s) => format!("killed by signal {s}"),
        Ending::SpawnFailed(e) => e.clone(),
        Ending::Cancelled => "cancelled".to_owned(),
    };
    crate::ui::format::truncate(&line, 200)
}

fn failed(started: Instant, e: String) -> Outcome {
    Outcome {
        ending: Ending::Failed(e.clone()),
        duration: started.elapsed(),
        excerpt: e,
        excerpt_truncated: false,
    }
}

/// Decode on a blocking thread; progress at most once a second; cancel and
/// the timeout both stop it between chunks.
async fn verify_file(
    path: &std::path::Path,
    checksum: Option<Checksum>,
    timeout: Duration,
    cancel: &CancellationToken,
    lines: &mpsc::Sender<(Stream, String)>,
) -> Outcome {
    let started = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let (path, tx, flag) = (path.to_path_buf(), lines.clone(), Arc::clone(&stop));
    let work = tokio::task::spawn_blocking(move || {
        let mut last = Instant::now();
        let mut finished = false;
        let mut progress = |p: crate::backups::verify::Progress| {
            let end = p.done >= p.total;
            if (last.elapsed() >= PROGRESS_EVERY && !end) || (end && !finished) {
                last = Instant::now();
                finished |= end;
                let _ = tx.try_send((Stream::Stdout, progress_line(&p)));
            }
        };
        crate::backups::verify::verify_file(&path, checksum.as_ref(), &flag, &mut progress)
    });
    let result = tokio::select! {
        r = work => r,
        () = cancel.cancelled() => {
            stop.store(true, Ordering::Relaxed);
            return Outcome { ending: Ending::Cancelled, duration: started.elapsed(), excerpt: "cancelled".into(), excerpt_truncated: false };
        }
        () = tokio::time::sleep(timeout) => {
            stop.store(true, Ordering::Relaxed);
            return Outcome { ending: Ending::TimedOut, duration: started.elapsed(), excerpt: "timed out".into(), excerpt_truncated: false };
        }
    };
    let text = match result {
        Ok(Ok(report)) => Ok(report_line(&report)),
        Ok(Err(e)) => Err(e.to_string()),
        Err(e) => Err(format!("verify task failed: {e}")),
    };
    let (ending, excerpt) = match text {
        Ok(line) => {
            let _ = lines.try_send((Stream::Stdout, line.clone()));
            (Ending::Done, line)
        }
        Err(e) => (Ending::Failed(e.clone()), e),
    };
    Outcome { ending, duration: started.elapsed(), excerpt, excerpt_truncated: false }
}

fn progress_line(p: &crate::backups::verify::Progress) -> String {
    let pct = if p.total == 0 { 100.0 } else { p.done as f64 * 100.0 / p.total as f64 };
    let rate = p.done as f64 / p.elapsed.as_secs_f64().max(0.001);
    format!(
        "{} {pct:>3.0}% {} of {} at {}/s",
        crate::ui::widgets::bar(pct, 20),
        crate::ui::format::bytes(p.done as f64),
        crate::ui::format::bytes(p.total as f64),
        crate::ui::format::bytes(rate)
    )
}

fn report_line(r: &crate::backups::verify::VerifyReport) -> String {
    let sum = match &r.checksum {
        Some(m) => format!(", {} matches the sidecar", m.algorithm.as_str()),
        None => String::new(),
    };
    format!(
        "ok: {} decoded to its end ({} read, {} decoded) in {:.1} s{sum}",
        r.compression.as_str(),
        crate::ui::format::bytes(r.bytes_read as f64),
        crate::ui::format::bytes(r.decoded_bytes as f64),
        r.duration.as_secs_f64()
    )
}
