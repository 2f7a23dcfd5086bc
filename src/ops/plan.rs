//! A plan is an action made concrete for one pinned target: the exact argv,
//! file write or backup it will perform. Its preview is what the dialog shows
//! and the audit row records; the plan is prepared again from the re-read
//! target just before running, and a different preview aborts the action.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::catalog::{ActionDef, Exec};
use super::run::{self, Ending, Outcome, RunSpec, Stream};
use super::target::Target;

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
}

/// Who and why, for plans that record it (the maintenance flag's note).
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// The operator, as the audit trail names them.
    pub who: String,
    /// The operator's reason, if given.
    pub reason: String,
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
        }
    }

    /// Carry it out, streaming lines to `lines`.
    pub async fn execute(
        &self,
        timeout: Duration,
        cancel: &CancellationToken,
        lines: &mpsc::Sender<(Stream, String)>,
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
fn quote(arg: &str) -> String {
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
