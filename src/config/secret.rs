//! Secrets are never written in the config: it says where to read them, from
//! an environment variable, a file, or a command's stdout (an argv list, run
//! without a shell). The value read is wrapped so it cannot reach a log, an
//! error message or `Debug` output by accident.

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

/// Where a secret comes from, as configured. Holds no secret itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// `<what>_env = "VAR"`: an environment variable of opsdeck's.
    Env(String),
    /// `<what>_file = "/path"`: a file's content, surrounding whitespace trimmed.
    File(PathBuf),
    /// `<what>_command = ["pass", "show", "am"]`: a program's stdout, trimmed.
    Command(Vec<String>),
}

/// Longest a `*_command` may take: a password manager waiting for a PIN
/// would otherwise stall its source forever.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// A resolved secret. Its `Debug` and `Display` print `••••`; the value is
/// reachable only through `expose`, so every use of it is deliberate.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(String);

impl SecretValue {
    /// Wrap a value read from elsewhere.
    pub fn new(value: String) -> SecretValue {
        SecretValue(value)
    }

    /// The value itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("••••")
    }
}

impl fmt::Display for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("••••")
    }
}

impl Secret {
    /// Build from the three spellings of one secret (`what` is e.g. `password`):
    /// none given is `None`, exactly one is the secret, more than one is an error.
    pub fn from_fields(
        what: &str,
        env: Option<String>,
        file: Option<PathBuf>,
        command: Option<Vec<String>>,
    ) -> Result<Option<Secret>, String> {
        let given = [env.is_some(), file.is_some(), command.is_some()].iter().filter(|g| **g).count();
        if given > 1 {
            return Err(format!("give only one of {what}_env, {what}_file and {what}_command"));
        }
        if let Some(var) = env {
            if var.trim().is_empty() {
                return Err(format!("{what}_env must name an environment variable"));
            }
            return Ok(Some(Secret::Env(var)));
        }
        if let Some(path) = file {
            if path.as_os_str().is_empty() {
                return Err(format!("{what}_file must not be empty"));
            }
            return Ok(Some(Secret::File(path)));
        }
        if let Some(argv) = command {
            if argv.first().is_none_or(|p| p.trim().is_empty()) {
                return Err(format!(
                    "{what}_command must be a list starting with the program, e.g. [\"pass\", \"show\", \"am\"]"
                ));
            }
            return Ok(Some(Secret::Command(argv)));
        }
        Ok(None)
    }

    /// Read the secret now. Errors say where it was looked for and why that
    /// failed; they never contain what was read.
    pub async fn resolve(&self) -> Result<SecretValue, String> {
        let value = match self {
            Secret::Env(var) => match std::env::var(var) {
                Ok(v) => v,
                Err(std::env::VarError::NotPresent) => {
                    return Err(format!("environment variable {var} is not set"));
                }
                Err(std::env::VarError::NotUnicode(_)) => {
                    return Err(format!("environment variable {var} is not valid UTF-8"));
                }
            },
            Secret::File(path) => tokio::fs::read_to_string(path)
                .await
                .map_err(|e| format!("cannot read secret file {}: {e}", path.display()))?,
            Secret::Command(argv) => run_command(argv).await?,
        };
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(format!("{} is empty", self.describe()));
        }
        Ok(SecretValue(trimmed.to_owned()))
    }

    /// Where the secret is read from, for messages.
    pub fn describe(&self) -> String {
        match self {
            Secret::Env(var) => format!("environment variable {var}"),
            Secret::File(path) => format!("secret file {}", path.display()),
            Secret::Command(argv) => format!("the output of {argv:?}"),
        }
    }
}

async fn run_command(argv: &[String]) -> Result<String, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("secret command is empty".into());
    };
    // A password manager gets its agent's variables and nothing else of ours.
    let child = crate::ops::child_env::command_with(program, &crate::ops::child_env::SECRET_HELPER)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true) // a timed-out helper does not linger
        .spawn()
        .map_err(|e| format!("cannot start secret command {program:?}: {e}"))?;
    let out = match tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => return Err(format!("secret command {program:?} failed: {e}")),
        Err(_) => {
            return Err(format!(
                "secret command {program:?} did not finish in {}",
                humantime::format_duration(COMMAND_TIMEOUT)
            ));
        }
    };
    if !out.status.success() {
        // stderr is the helper's own complaint ("not unlocked"); stdout, where
        // the secret would be, is never quoted.
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("no message");
        let why: String = why.chars().take(160).collect();
        return Err(format!("secret command {program:?} exited with {}: {why}", out.status));
    }
    String::from_utf8(out.stdout).map_err(|_| format!("secret command {program:?} printed invalid UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_one_spelling() {
        assert_eq!(Secret::from_fields("password", None, None, None), Ok(None));
        assert_eq!(
            Secret::from_fields("password", Some("AM_PASS".into()), None, None),
            Ok(Some(Secret::Env("AM_PASS".into())))
        );
        let both = Secret::from_fields("password", Some("A".into()), Some("/f".into()), None);
        assert!(both.unwrap_err().contains("only one of password_env"));
        let empty = Secret::from_fields("token", None, None, Some(vec![]));
        assert!(empty.unwrap_err().contains("token_command must be a list"));
    }

    #[tokio::test]
    async fn resolves_trimmed_and_hides_the_value() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pw");
        std::fs::write(&file, "  hunter2\n").unwrap();
        let v = Secret::File(file).resolve().await.unwrap();
        assert_eq!(v.expose(), "hunter2");
        assert_eq!(format!("{v:?} {v}"), "•••• ••••");
        let cmd = Secret::Command(vec!["printf".into(), "s3cret\\n".into()]);
        assert_eq!(cmd.resolve().await.unwrap().expose(), "s3cret");
    }

    #[tokio::test]
    async fn failures_never_quote_the_output() {
        let cmd =
            Secret::Command(vec!["sh".into(), "-c".into(), "printf leaked; echo locked >&2; exit 3".into()]);
        let err = cmd.resolve().await.unwrap_err();
        assert!(err.contains("exited with exit status: 3: locked"), "{err}");
        assert!(!err.contains("leaked"), "{err}");
        let missing = Secret::Env("OPSDECK_TEST_SURELY_UNSET".into()).resolve().await.unwrap_err();
        assert_eq!(missing, "environment variable OPSDECK_TEST_SURELY_UNSET is not set");
        let blank = Secret::Command(vec!["true".into()]).resolve().await.unwrap_err();
        assert!(blank.contains("is empty"), "{blank}");
        let absent = Secret::Command(vec!["/nonexistent/helper".into()]).resolve().await.unwrap_err();
        assert!(absent.contains("cannot start"), "{absent}");
    }
}
