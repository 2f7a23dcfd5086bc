//! Running a backup tool (restic, pgbackrest, wal-g) to read its catalog:
//! from an argv list, never a shell; secrets in the environment, never argv;
//! in its own process group so a timeout takes down everything it started;
//! optionally as another OS user (pgBackRest must run as the postgres user,
//! or it leaves root-owned files that break archive-push).

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::backups::model::{CatalogError, ErrorState};
use crate::config::secret::SecretValue;

/// Most stdout a tool may print for one listing: a catalog of many thousands
/// of backups is a few MiB of JSON; more is a runaway, not a catalog.
pub const STDOUT_CAP: usize = 64 * 1024 * 1024;

/// Stderr kept for messages (its end, where tools put the reason).
const STDERR_KEPT: usize = 4096;

/// One tool run.
#[derive(Debug, Clone)]
pub struct ToolRun {
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Extra environment; values are secrets or not, all are kept out of logs.
    pub env: Vec<(String, SecretValue)>,
    /// Run as this OS user when it is not the current one.
    pub run_as: Option<String>,
    /// Longest the run may take.
    pub timeout: Duration,
}

/// What the tool printed and how it exited.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    /// Exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    /// All of stdout (up to [`STDOUT_CAP`]).
    pub stdout: Vec<u8>,
    /// The end of stderr, lossily decoded.
    pub stderr: String,
}

impl ToolOutput {
    /// The last non-empty stderr line, for a one-line state.
    pub fn reason(&self) -> String {
        self.stderr.lines().map(str::trim).rfind(|l| !l.is_empty()).map_or_else(
            || format!("exit code {}", self.code.map_or("none".to_owned(), |c| c.to_string())),
            str::to_owned,
        )
    }
}

/// The start of a tool's answer on one line (whitespace collapsed, at most
/// 80 characters), for a bad-answer message.
pub fn excerpt(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ").chars().take(80).collect()
}

/// The argv actually run: the tool itself, or wrapped to switch user. As
/// root, `runuser` (no password, keeps the environment); otherwise
/// `sudo -n` (never prompts: a missing sudo rule is an error, not a hang),
/// told to keep the variables the tool needs.
pub fn effective_argv(run: &ToolRun) -> Vec<String> {
    let Some(user) = run.run_as.as_deref().filter(|u| *u != current_user()) else {
        return run.argv.clone();
    };
    let mut argv: Vec<String> = if is_root() {
        vec!["runuser".into(), "-u".into(), user.into(), "--".into()]
    } else {
        let mut a = vec!["sudo".into(), "-n".into(), "-u".into(), user.into()];
        if !run.env.is_empty() {
            let names: Vec<&str> = run.env.iter().map(|(k, _)| k.as_str()).collect();
            a.push(format!("--preserve-env={}", names.join(",")));
        }
        a.push("--".into());
        a
    };
    argv.extend(run.argv.iter().cloned());
    argv
}

/// Run the tool to its end or its timeout.
pub async fn run(run: &ToolRun) -> Result<ToolOutput, CatalogError> {
    let argv = effective_argv(run);
    let Some((program, args)) = argv.split_first() else {
        return Err(CatalogError::new(ErrorState::Failed, "empty argv"));
    };
    // Only this catalog's own variables (repository, password) beside the harmless ones.
    let mut cmd = crate::ops::child_env::command(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .envs(run.env.iter().map(|(k, v)| (k, v.expose())));
    let mut child = cmd.spawn().map_err(|e| {
        let state = if e.kind() == std::io::ErrorKind::NotFound {
            ErrorState::ToolMissing
        } else {
            ErrorState::Failed
        };
        CatalogError::new(state, format!("cannot start {program}: {e}"))
    })?;
    let pgid = child.id().map(|id| id as libc::pid_t);
    let (Some(mut out), Some(mut err)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(CatalogError::new(ErrorState::Failed, "no pipes to the tool"));
    };
    let work = async {
        let mut stdout = Vec::new();
        let mut stderr = Vec::new();
        let read_out = async {
            // On the heap: a 64 KiB array would sit in every caller's future.
            let mut chunk = vec![0u8; 64 * 1024];
            loop {
                let n = out.read(&mut chunk).await?;
                if n == 0 {
                    return Ok::<bool, std::io::Error>(false);
                }
                if stdout.len() + n > STDOUT_CAP {
                    return Ok(true);
                }
                stdout.extend_from_slice(&chunk[..n]);
            }
        };
        let read_err = async {
            let mut chunk = [0u8; 8192];
            loop {
                let n = err.read(&mut chunk).await?;
                if n == 0 {
                    return Ok::<(), std::io::Error>(());
                }
                stderr.extend_from_slice(&chunk[..n]);
                if stderr.len() > 2 * STDERR_KEPT {
                    stderr.drain(..stderr.len() - STDERR_KEPT);
                }
            }
        };
        let (overflow, _) = tokio::try_join!(read_out, read_err)
            .map_err(|e| CatalogError::new(ErrorState::Failed, format!("reading {program}'s output: {e}")))?;
        if overflow {
            return Err(CatalogError::new(
                ErrorState::BadAnswer,
                format!("{program} printed more than {} MiB", STDOUT_CAP / (1024 * 1024)),
            ));
        }
        let status = child
            .wait()
            .await
            .map_err(|e| CatalogError::new(ErrorState::Failed, format!("waiting for {program}: {e}")))?;
        let tail = stderr.len().saturating_sub(STDERR_KEPT);
        Ok(ToolOutput {
            code: status.code(),
            stdout,
            stderr: String::from_utf8_lossy(&stderr[tail..]).into_owned(),
        })
    };
    let result = tokio::time::timeout(run.timeout, work).await;
    match result {
        Ok(r) => {
            kill_group(pgid);
            r
        }
        Err(_) => {
            kill_group(pgid);
            Err(CatalogError::new(
                ErrorState::Timeout,
                format!("{program} gave no answer within {}", humantime::format_duration(run.timeout)),
            ))
        }
    }
}

/// Kill whatever is left of the tool's process group (a helper it started).
fn kill_group(pgid: Option<libc::pid_t>) {
    if let Some(pgid) = pgid.filter(|p| *p > 0) {
        // SAFETY: killpg on a group we created; failure (already gone) is fine.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// The name of the user opsdeck runs as (its effective uid), from the
/// password database: `$USER` survives `sudo` and would lie.
pub fn current_user() -> String {
    // SAFETY: geteuid has no preconditions; getpwuid_r writes only into the
    // buffers we pass and the result pointer, which we read only on success.
    unsafe {
        let uid = libc::geteuid();
        let mut pwd: libc::passwd = std::mem::zeroed();
        let mut buf = vec![0 as libc::c_char; 4096];
        let mut result: *mut libc::passwd = std::ptr::null_mut();
        let rc = libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result);
        if rc != 0 || result.is_null() || pwd.pw_name.is_null() {
            return format!("uid {uid}");
        }
        std::ffi::CStr::from_ptr(pwd.pw_name).to_string_lossy().into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(argv: &[&str], timeout_ms: u64) -> ToolRun {
        ToolRun {
            argv: argv.iter().map(|s| (*s).to_owned()).collect(),
            env: vec![("OD_SECRET".into(), SecretValue::new("s3cret".into()))],
            run_as: None,
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    #[tokio::test]
    async fn output_code_and_env_reach_the_caller() {
        let out =
            run(&tool(&["sh", "-c", "printf %s \"$OD_SECRET\"; echo oops >&2; exit 3"], 5000)).await.unwrap();
        assert_eq!((out.code, out.stdout.as_slice()), (Some(3), &b"s3cret"[..]));
        assert_eq!(out.reason(), "oops");
    }

    #[tokio::test]
    async fn a_missing_tool_and_a_hung_one_are_states() {
        let missing = run(&tool(&["/nonexistent/restic"], 1000)).await.unwrap_err();
        assert_eq!(missing.state, ErrorState::ToolMissing);
        let started = std::time::Instant::now();
        let hung = run(&tool(&["sh", "-c", "sleep 30 & wait"], 200)).await.unwrap_err();
        assert_eq!(hung.state, ErrorState::Timeout);
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn switching_user_wraps_the_argv_and_keeps_the_env_names_only() {
        let mut t = tool(&["pgbackrest", "info"], 1000);
        t.run_as = Some("nobody-else".into());
        let argv = effective_argv(&t);
        assert_eq!(argv[argv.len() - 2..], ["pgbackrest".to_owned(), "info".to_owned()]);
        assert!(argv.iter().all(|a| !a.contains("s3cret")), "{argv:?}");
        t.run_as = Some(current_user());
        assert_eq!(effective_argv(&t), ["pgbackrest", "info"]);
    }
}
