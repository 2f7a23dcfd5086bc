//! What a pgBackRest run that did not simply succeed means: a non-zero exit
//! read from its `ERROR: [code]: message` line, and `verify`'s text report.
//!
//! The codes are pgBackRest's error types (`src/build/error/error.yaml`);
//! the process also exits with that code.

use crate::backups::model::{CatalogError, ErrorState};
use crate::sources::backups::tool::ToolOutput;

/// `option-required`: e.g. an encrypted repository without its passphrase.
const OPTION_REQUIRED: i32 = 37;
/// `lock-acquire`: another backup, expire or stanza command holds the lock.
const LOCK_ACQUIRE: i32 = 50;
/// `file-missing`: e.g. the config file or `backup.info`.
const FILE_MISSING: i32 = 55;
/// `path-missing`: the repository path.
const PATH_MISSING: i32 = 73;
/// `crypto`: the cipher passphrase does not decrypt the repository.
const CRYPTO: i32 = 95;
/// `repo-invalid`: no valid repository could be found.
const REPO_INVALID: i32 = 103;

/// Most reason lines of a failed verify kept in its one-line message.
const VERIFY_REASONS: usize = 3;

/// The state of a run that exited non-zero, with pgBackRest's own words
/// (`[055]: unable to open missing file '…' for read`). The error line is
/// looked for on stderr first (where our argv sends it), then on stdout (a
/// config that logs to the console); otherwise the exit code, which is the
/// error code, and the last stderr line.
pub fn classify(out: &ToolOutput) -> CatalogError {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let (code, message) = match error_line(&out.stderr).or_else(|| error_line(&stdout)) {
        Some((code, text)) => (Some(code), format!("[{code:03}]: {text}")),
        None => (out.code, out.reason()),
    };
    CatalogError::new(state_for(code, &message), message)
}

/// The result of a [`super::verify_argv`] run: `Ok` with a summary line, or
/// why the repository did not verify. `verify` exits 0 even for a stanza it
/// cannot read, and reports that as `status: error` in its text output.
pub fn verify_outcome(out: &ToolOutput) -> Result<String, CatalogError> {
    if out.code != Some(0) {
        return Err(classify(out));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut failed: Vec<String> = Vec::new();
    let mut stanza = "";
    let mut in_error = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(name) = trimmed.strip_prefix("stanza:") {
            stanza = name.trim();
            in_error = false;
        } else if let Some(status) = trimmed.strip_prefix("status:") {
            in_error = status.trim() != "ok";
            if in_error {
                failed.push(format!("stanza {stanza}: {}", status.trim()));
            }
        } else if in_error && !trimmed.is_empty() {
            failed.push(trimmed.to_owned());
        }
    }
    if failed.is_empty() {
        return Ok("all backups and WAL segments verified".to_owned());
    }
    let more = failed.len().saturating_sub(VERIFY_REASONS + 1);
    failed.truncate(VERIFY_REASONS + 1);
    if more > 0 {
        failed.push(format!("{more} more"));
    }
    Err(CatalogError::new(ErrorState::Failed, failed.join("; ")))
}

/// `ERROR: [055]: message` anywhere in a line (a timestamp and process id
/// may come first): the code and the message.
fn error_line(text: &str) -> Option<(i32, String)> {
    text.lines().find_map(|line| {
        let rest = &line[line.find("ERROR: [")? + "ERROR: [".len()..];
        let (digits, message) = rest.split_once(']')?;
        let code = digits.parse().ok()?;
        let message = message.trim_start_matches(':').trim();
        Some((code, message.to_owned()))
    })
}

fn state_for(code: Option<i32>, message: &str) -> ErrorState {
    let lower = message.to_lowercase();
    match code {
        Some(LOCK_ACQUIRE) => ErrorState::Locked,
        Some(CRYPTO) => ErrorState::WrongPassword,
        Some(OPTION_REQUIRED) if lower.contains("cipher-pass") => ErrorState::WrongPassword,
        Some(FILE_MISSING | PATH_MISSING | REPO_INVALID) => ErrorState::NoRepository,
        _ if lower.contains("permission denied") => ErrorState::Unreadable,
        _ if lower.contains("does not exist") || lower.contains("stanza-create") => ErrorState::NoRepository,
        _ => ErrorState::Failed,
    }
}
