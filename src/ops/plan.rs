//! A plan is an action made concrete for one pinned target: the exact argv,
//! file write or backup it will perform. Its preview is what the dialog shows
//! and the audit row records; the plan is prepared again from the re-read
//! target just before running, and a different preview aborts the action.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::catalog::{ActionDef, Exec};
use super::run::{self, Ending, Outcome, RunSpec, Stream};
use super::target::Target;
use crate::config::sources::HttpSource;
use crate::sources::alertmanager::NewSilence;
use crate::store::Store;

/// What will happen, exactly.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    /// Run a program.
    Command(RunSpec),
    /// Create a flag file holding `note`.
    WriteFlag {
        /// The flag file.
        path: PathBuf,
        /// Its first line.
        note: String,
    },
    /// Remove a flag file.
    RemoveFlag {
        /// The flag file.
        path: PathBuf,
    },
    /// Online backup of a SQLite database into a directory.
    SqliteBackup {
        /// The database.
        database: PathBuf,
        /// Where the timestamped copy goes.
        destination: PathBuf,
    },
    /// Record an ack in the store.
    Ack(crate::alerts::queue::Ack),
    /// `POST /api/v2/silences` to an Alertmanager.
    Silence {
        /// The Alertmanager.
        source: Box<HttpSource>,
        /// The silence.
        silence: NewSilence,
    },
    /// `DELETE /api/v2/silence/{id}` on an Alertmanager.
    ExpireSilence {
        /// The Alertmanager.
        source: Box<HttpSource>,
        /// The silence's id.
        id: String,
    },
    /// A replication action on one database member.
    Replication {
        /// What to do.
        op: super::replication::ReplOp,
        /// The member's cluster (how to connect, as whom).
        cluster: Box<crate::config::clusters::Cluster>,
        /// The member.
        addr: crate::config::clusters::MemberAddr,
        /// For a promote: the current primary's reachability and read-only state.
        primary_note: Option<String>,
    },
    /// Verify a backup, back up now, or a restore test.
    Backup(super::backup::BackupPlan),
}

/// Who, why, when and the form's values: what a plan is made from besides
/// the action and the target. The dialog and the executor prepare with the
/// same context, so the same plan comes out of both.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The operator, as the audit trail names them.
    pub who: String,
    /// The operator's reason or comment, if given.
    pub reason: String,
    /// The dialog's form fields (a silence's duration and matchers).
    pub form: BTreeMap<String, String>,
    /// The time the plan is for (a silence starts then); fixed at confirmation.
    pub at: Option<jiff::Timestamp>,
}

/// Make `def` concrete for `target`.
pub fn prepare(def: &ActionDef, target: &Target, ctx: &Context) -> Result<Plan, String> {
    let fields = target.placeholders();
    match &def.exec {
        Exec::Command(a) => {
            let mut all = a.params.clone();
            // The target's live fields win over fixed params of the same name.
            all.extend(fields);
            let argv = super::argv::render(&a.argv, &all)?;
            let stdin = match &a.stdin {
                Some(t) => Some(super::argv::render(std::slice::from_ref(t), &all)?.concat()),
                None => None,
            };
            Ok(Plan::Command(RunSpec {
                argv,
                timeout: def.timeout,
                cwd: a.cwd.clone(),
                env: a.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                stdin,
            }))
        }
        Exec::MaintenanceOn(path) => {
            let reason = ctx.reason.trim();
            let note = if reason.is_empty() {
                format!("by {}", ctx.who)
            } else {
                format!("{reason} — {}", ctx.who)
            };
            Ok(Plan::WriteFlag { path: path.clone(), note })
        }
        Exec::MaintenanceOff(path) => Ok(Plan::RemoveFlag { path: path.clone() }),
        Exec::SqliteBackup => {
            let get = |k: &str| fields.get(k).cloned().ok_or_else(|| format!("target has no {k}"));
            Ok(Plan::SqliteBackup {
                database: get("database")?.into(),
                destination: get("destination")?.into(),
            })
        }
        Exec::Ack => Ok(Plan::Ack(crate::alerts::queue::Ack {
            fingerprint: fields.get("fingerprint").cloned().ok_or("target has no fingerprint")?,
            who: ctx.who.clone(),
            at: ctx.at.unwrap_or_else(jiff::Timestamp::now),
            comment: ctx.reason.trim().to_owned(),
        })),
        Exec::Silence(ams) => {
            // The Alertmanager that reported the alert, else the first configured.
            let seen = fields.get("seen_by").cloned().unwrap_or_default();
            let source = ams
                .iter()
                .find(|am| seen.split(',').any(|s| s == am.name))
                .or(ams.first())
                .ok_or("no [[alertmanager]] is configured")?;
            let at = ctx.at.unwrap_or_else(jiff::Timestamp::now);
            let silence = super::silence::build(&ctx.form, &ctx.who, &ctx.reason, at)?;
            Ok(Plan::Silence { source: Box::new(source.clone()), silence })
        }
        Exec::ExpireSilence(ams) => {
            let name = fields.get("source").cloned().unwrap_or_default();
            let source = ams
                .iter()
                .find(|am| am.name == name)
                .ok_or_else(|| format!("no [[alertmanager]] named {name:?}"))?;
            let id = fields.get("id").cloned().ok_or("target has no id")?;
            Ok(Plan::ExpireSilence { source: Box::new(source.clone()), id })
        }
        Exec::Replication(op) => super::replication::prepare(*op, target),
        Exec::Backup(op, catalogs) => super::backup::prepare(*op, catalogs, target),
    }
}

impl Plan {
    /// What the dialog shows and the audit row records, secrets masked.
    pub fn preview(&self) -> String {
        match self {
            Plan::Command(spec) => {
                let mut out = format!(
                    "run: {}",
                    spec.argv.iter().map(|a| quote(&mask(a))).collect::<Vec<_>>().join(" ")
                );
                for (k, v) in &spec.env {
                    let shown = if looks_secret(k) { "••••".to_owned() } else { mask(v) };
                    out.push_str(&format!("\nenv: {k}={}", quote(&shown)));
                }
                if let Some(dir) = &spec.cwd {
                    out.push_str(&format!("\ncwd: {}", dir.display()));
                }
                if let Some(stdin) = &spec.stdin {
                    out.push_str(&format!("\nstdin: {}", quote(&mask(stdin))));
                }
                out.push_str(&format!("\ntimeout: {}", humantime::format_duration(spec.timeout)));
                out
            }
            Plan::WriteFlag { path, note } => format!("create {} containing {}", path.display(), quote(note)),
            Plan::RemoveFlag { path } => format!("remove {}", path.display()),
            Plan::SqliteBackup { database, destination } => format!(
                "SQLite online backup of {} into {}/<name>-<UTC time>.sqlite3, then PRAGMA integrity_check",
                database.display(),
                destination.display()
            ),
            Plan::Ack(a) => format!(
                "record in opsdeck's store: ack of alert {} by {}: {}",
                a.fingerprint,
                a.who,
                quote(&a.comment)
            ),
            Plan::Silence { source, silence } => {
                let body = crate::sources::alertmanager::silence_body(silence);
                // Compact: the dialog wraps it, and it is exactly the bytes sent.
                let json = serde_json::to_string(&body).unwrap_or_default();
                format!("POST {}/api/v2/silences\n{json}", mask(source.url.trim_end_matches('/')))
            }
            Plan::ExpireSilence { source, id } => {
                format!("DELETE {}/api/v2/silence/{id}", mask(source.url.trim_end_matches('/')))
            }
            Plan::Replication { op, cluster, addr, primary_note } => {
                super::replication::preview(*op, cluster, addr, primary_note.as_deref())
            }
            Plan::Backup(plan) => plan.preview(),
        }
    }

    /// Carry it out, streaming lines to `lines`.
    pub async fn execute(
        &self,
        timeout: Duration,
        cancel: &CancellationToken,
        lines: &mpsc::Sender<(Stream, String)>,
        store: Option<&Store>,
    ) -> Outcome {
        let started = Instant::now();
        let say = |line: String| {
            let _ = lines.try_send((Stream::Stdout, line));
        };
        let done = |result: Result<String, String>| {
            let (ending, excerpt) = match result {
                Ok(text) => (Ending::Done, text),
                Err(e) => (Ending::Failed(e.clone()), e),
            };
            Outcome { ending, duration: started.elapsed(), excerpt, excerpt_truncated: false }
        };
        match self {
            Plan::Command(spec) => run::run(spec, cancel, lines).await,
            Plan::Backup(plan) => plan.execute(timeout, cancel, lines, store).await,
            Plan::Replication { op, cluster, addr, .. } => {
                super::replication::execute(*op, cluster, addr, timeout, cancel, lines).await
            }
            Plan::WriteFlag { path, note } => {
                let result =
                    write_new(path, &format!("{note}\n")).map(|()| format!("created {}", path.display()));
                if let Ok(line) = &result {
                    say(line.clone());
                }
                done(result)
            }
            Plan::RemoveFlag { path } => {
                let result = std::fs::remove_file(path)
                    .map(|()| format!("removed {}", path.display()))
                    .map_err(|e| format!("cannot remove {}: {e}", path.display()));
                if let Ok(line) = &result {
                    say(line.clone());
                }
                done(result)
            }
            Plan::Ack(a) => {
                let result = match store {
                    Some(store) => crate::alerts::history::ack(store, a)
                        .await
                        .map(|()| format!("acked {}", a.fingerprint)),
                    None => Err("the state store is not open".to_owned()),
                };
                if let Ok(line) = &result {
                    say(line.clone());
                }
                done(result)
            }
            Plan::Silence { source, silence } => {
                let result = match crate::sources::http::Endpoint::connect(source).await {
                    Ok(endpoint) => {
                        crate::sources::alertmanager::create_silence(&endpoint, silence).await.map(|c| {
                            let how = if c.found_after_lost_answer {
                                " (its answer was lost; found in the silences list, not sent twice)"
                            } else {
                                ""
                            };
                            format!("created silence {} in {}{how}", c.id, source.name)
                        })
                    }
                    Err(e) => Err(e),
                };
                if let Ok(line) = &result {
                    say(line.clone());
                }
                done(result)
            }
            Plan::ExpireSilence { source, id } => {
                let result = match crate::sources::http::Endpoint::connect(source).await {
                    Ok(endpoint) => crate::sources::alertmanager::expire_silence(&endpoint, id)
                        .await
                        .map(|()| format!("expired silence {id} in {}", source.name)),
                    Err(e) => Err(e),
                };
                if let Ok(line) = &result {
                    say(line.clone());
                }
                done(result)
            }
            Plan::SqliteBackup { database, destination } => {
                let (database, destination) = (database.clone(), destination.clone());
                let tx = lines.clone();
                let work = tokio::task::spawn_blocking(move || {
                    let mut progress = |line: String| {
                        let _ = tx.try_send((Stream::Stdout, line));
                    };
                    super::sqlite_backup::backup(&database, &destination, timeout, &mut progress)
                });
                // Not cancellable mid-copy (the copy is one step; see sqlite_backup),
                // but bounded: it gives up when `timeout` passes.
                let _ = cancel;
                let result =
                    work.await.map_err(|e| format!("backup task failed: {e}")).and_then(|r| r).map(|r| {
                        format!(
                            "wrote {} ({} bytes), integrity_check: {}",
                            r.destination.display(),
                            r.bytes,
                            r.integrity
                        )
                    });
                done(result)
            }
        }
    }
}

/// Create `path` with `text`; an existing file is left alone (someone else set it).
fn write_new(path: &std::path::Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn looks_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["pass", "secret", "token", "key", "auth", "credential"].iter().any(|s| k.contains(s))
}

/// Mask the secret parts of one argument: `--password=x`, `password=x`
/// pairs, and the password in `scheme://user:password@host`.
pub fn mask(arg: &str) -> String {
    if let Some((k, _)) = arg.split_once('=')
        && looks_secret(k.trim_start_matches('-'))
    {
        return format!("{k}=••••");
    }
    if let Some(scheme_end) = arg.find("://") {
        let rest = &arg[scheme_end + 3..];
        if let Some(at) = rest.find('@')
            && let Some(colon) = rest[..at].find(':')
        {
            return format!("{}{}:••••{}", &arg[..scheme_end + 3], &rest[..colon], &rest[at..]);
        }
    }
    arg.to_owned()
}

/// Shell-style quoting for display only (nothing is ever run through a shell),
/// so an argument with spaces, quotes or a newline reads as one argument.
/// Shell-quote one argument for reading (never for a shell: nothing here runs one).
pub fn quote(arg: &str) -> String {
    let plain =
        !arg.is_empty() && arg.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%{}•".contains(c));
    if plain {
        return arg.to_owned();
    }
    let escaped: String = arg
        .chars()
        .flat_map(|c| match c {
            '\'' => "'\\''".chars().collect::<Vec<_>>(),
            '\n' => "\\n".chars().collect(),
            c if c.is_control() => format!("\\x{:02x}", c as u32).chars().collect(),
            c => vec![c],
        })
        .collect();
    format!("'{escaped}'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_secrets_in_arguments() {
        assert_eq!(mask("--password=hunter2"), "--password=••••");
        assert_eq!(mask("PGPASSWORD=x"), "PGPASSWORD=••••");
        assert_eq!(mask("postgres://app:hunter2@db1:5432/x"), "postgres://app:••••@db1:5432/x");
        assert_eq!(mask("--host=db1"), "--host=db1");
        assert_eq!(mask("restart"), "restart");
    }

    #[test]
    fn quoting_shows_one_argument_as_one() {
        assert_eq!(quote("nginx"), "nginx");
        assert_eq!(quote("; rm -rf /"), "'; rm -rf /'");
        assert_eq!(quote("a\nb"), "'a\\nb'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote(""), "''");
    }
}
