//! `pgbackrest info --output=json` into a [`Catalog`].
//!
//! The shape (pgBackRest 2.45, `src/command/info/info.c`): an array of
//! stanzas, each with `status` {code, message, lock.backup.held}, `backup[]`
//! (oldest first), `archive[]` (WAL min/max per database and repository),
//! `db[]` (the database history, oldest first per repository) and, since
//! multi-repository support (2.33), `repo[]` with a status per repository.
//! Fields added later (`error` 2.36, `lsn`, `annotation` 2.41) are optional.

use jiff::Timestamp;
use serde::Deserialize;

use crate::backups::model::{Archive, Backup, BackupType, Catalog, CatalogError, ErrorState};

/// Stanza status codes (`INFO_STANZA_STATUS_CODE_*` in info.c).
mod code {
    /// "ok".
    pub const OK: i64 = 0;
    /// "missing stanza path": no stanza-create on this repository (or the
    /// repository path itself is missing).
    pub const MISSING_STANZA_PATH: i64 = 1;
    /// "no valid backups": the stanza exists, nothing backed up yet.
    pub const NO_BACKUP: i64 = 2;
    /// "missing stanza data": the stanza path exists but backup.info does not.
    pub const MISSING_STANZA_DATA: i64 = 3;
    /// "different across repos": the repositories' statuses differ (the
    /// text output says "mixed").
    pub const MIXED: i64 = 4;
    /// "other": an error reading the repository; `repo[].status.message`
    /// holds it as `[ErrorType] message`.
    pub const OTHER: i64 = 99;
}

/// What a flagged backup means (`error: true`, pgBackRest 2.36+).
pub const BACKUP_ERROR: &str = "backup has errors (page checksums or missing files)";

/// The note for a held backup lock (info.c: "backup/expire running").
pub const BACKUP_IN_PROGRESS: &str = "backup in progress";

/// Characters of a non-JSON answer quoted in the error.
const EXCERPT_CHARS: usize = 80;

#[derive(Deserialize)]
struct Stanza {
    name: String,
    #[serde(default)]
    status: Option<Status>,
    #[serde(default)]
    cipher: Option<String>,
    #[serde(default)]
    backup: Vec<RawBackup>,
    #[serde(default)]
    archive: Vec<RawArchive>,
    #[serde(default)]
    db: Vec<RawDb>,
    #[serde(default)]
    repo: Vec<RawRepo>,
}

#[derive(Deserialize)]
struct Status {
    code: i64,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    lock: Option<Lock>,
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    backup: Option<BackupLock>,
}

#[derive(Deserialize)]
struct BackupLock {
    #[serde(default)]
    held: bool,
}

#[derive(Deserialize)]
struct RawRepo {
    #[serde(default)]
    key: Option<u32>,
    #[serde(default)]
    status: Option<RepoStatus>,
}

#[derive(Deserialize)]
struct RepoStatus {
    code: i64,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct RawDb {
    id: u32,
    #[serde(default, rename = "repo-key")]
    repo_key: Option<u32>,
    #[serde(default, rename = "system-id")]
    system_id: Option<u64>,
    #[serde(default)]
    version: Option<String>,
}

#[derive(Deserialize)]
struct DbRef {
    #[serde(default)]
    id: Option<u32>,
    #[serde(default, rename = "repo-key")]
    repo_key: Option<u32>,
}

#[derive(Deserialize)]
struct RawArchive {
    #[serde(default)]
    database: Option<DbRef>,
    #[serde(default)]
    min: Option<String>,
    #[serde(default)]
    max: Option<String>,
}

#[derive(Deserialize)]
struct RawBackup {
    label: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    prior: Option<String>,
    #[serde(default)]
    reference: Option<Vec<String>>,
    #[serde(default)]
    timestamp: Option<Span<i64>>,
    #[serde(default)]
    info: Option<Sizes>,
    #[serde(default)]
    archive: Option<Span<String>>,
    #[serde(default)]
    lsn: Option<Span<String>>,
    #[serde(default)]
    database: Option<DbRef>,
    #[serde(default)]
    error: Option<bool>,
    #[serde(default)]
    annotation: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Span<T> {
    #[serde(default)]
    start: Option<T>,
    #[serde(default)]
    stop: Option<T>,
}

#[derive(Deserialize)]
struct Sizes {
    /// The database's size.
    #[serde(default)]
    size: Option<u64>,
    #[serde(default)]
    repository: Option<RepoSizes>,
}

#[derive(Deserialize)]
struct RepoSizes {
    /// What this backup added to the repository (compressed).
    #[serde(default)]
    delta: Option<u64>,
}

/// Parse `pgbackrest info --output=json` and pick `stanza`. An unusable
/// stanza is an error state; a fresh one (no backups yet), a backup running
/// or repositories that disagree are notes on the catalog.
pub fn parse_info(json: &[u8], stanza: &str) -> Result<Catalog, CatalogError> {
    let text = sanitize(json);
    if text.trim().is_empty() {
        return Err(CatalogError::new(ErrorState::BadAnswer, "pgbackrest info printed nothing"));
    }
    let stanzas: Vec<Stanza> = serde_json::from_str(&text).map_err(|e| {
        CatalogError::new(
            ErrorState::BadAnswer,
            format!("pgbackrest info did not answer its JSON ({e}): {}", excerpt(&text)),
        )
    })?;
    let Some(found) = stanzas.into_iter().find(|s| s.name == stanza) else {
        return Err(CatalogError::new(ErrorState::NoRepository, format!("stanza {stanza:?} not found")));
    };
    let mut notes = judge_status(&found)?;
    let multi_repo = found.repo.len() > 1;
    let mut catalog = Catalog { archive: current_archive(&found), ..Catalog::default() };
    for raw in found.backup {
        match backup(raw, multi_repo) {
            Ok(b) => catalog.backups.push(b),
            Err(note) => notes.push(note),
        }
    }
    catalog.notes = notes;
    catalog.sort();
    Ok(catalog)
}

/// pgBackRest has been seen to put raw bytes of an undecryptable info file
/// into an error message (wrong cipher passphrase): invalid UTF-8 and raw
/// control characters, which are not JSON. Neither can occur in valid JSON
/// outside a string, so replacing them keeps valid answers as they are.
fn sanitize(json: &[u8]) -> String {
    String::from_utf8_lossy(json)
        .chars()
        .map(|c| if c.is_control() && !matches!(c, '\n' | '\r' | '\t') { '\u{fffd}' } else { c })
        .collect()
}

/// The start of an answer, on one line, for a message.
fn excerpt(text: &str) -> String {
    let line: String =
        text.trim().chars().take(EXCERPT_CHARS).map(|c| if c.is_control() { ' ' } else { c }).collect();
    format!("{line:?}")
}

/// The stanza's status as an error state, or the notes it deserves.
fn judge_status(stanza: &Stanza) -> Result<Vec<String>, CatalogError> {
    let mut notes = Vec::new();
    let Some(status) = &stanza.status else {
        return Ok(notes);
    };
    let message = status.message.as_deref().unwrap_or("");
    let name = &stanza.name;
    if status.lock.as_ref().and_then(|l| l.backup.as_ref()).is_some_and(|b| b.held) {
        notes.push(BACKUP_IN_PROGRESS.to_owned());
    }
    match status.code {
        code::OK => {}
        code::NO_BACKUP => notes.push(format!("{message}: stanza {name:?} has no backups yet")),
        code::MISSING_STANZA_PATH | code::MISSING_STANZA_DATA => {
            let hint = "has stanza-create been run on this repository?";
            return Err(CatalogError::new(
                ErrorState::NoRepository,
                format!("stanza {name:?}: {message}; {hint}"),
            ));
        }
        code::MIXED => {
            notes.push(format!("status differs across repositories ({message})"));
            notes.extend(repo_lines(stanza, false));
        }
        _ if message == "mixed" => {
            notes.push("status differs across repositories".to_owned());
            notes.extend(repo_lines(stanza, false));
        }
        code::OTHER => {
            let repos = repo_lines(stanza, true);
            let encrypted = stanza.cipher.as_deref().is_some_and(|c| c != "none");
            let undecryptable =
                repos.iter().any(|r| r.contains("[CryptoError]") || r.contains("[FormatError]"));
            let state =
                if encrypted && undecryptable { ErrorState::WrongPassword } else { ErrorState::Failed };
            let hint = if state == ErrorState::WrongPassword { " (wrong cipher passphrase?)" } else { "" };
            return Err(CatalogError::new(state, format!("stanza {name:?}{hint}: {}", repos.join("; "))));
        }
        other => {
            let mut parts = vec![format!("stanza {name:?}: {message} (status {other})")];
            parts.extend(repo_lines(stanza, true));
            return Err(CatalogError::new(ErrorState::Failed, parts.join("; ")));
        }
    }
    Ok(notes)
}

/// One line per repository (`repo1: ok`), only the failing ones when asked;
/// an error message's first line only (later ones repeat it or carry hints).
fn repo_lines(stanza: &Stanza, failing_only: bool) -> Vec<String> {
    stanza
        .repo
        .iter()
        .filter_map(|r| {
            let status = r.status.as_ref()?;
            if failing_only && status.code == code::OK {
                return None;
            }
            let message = status.message.as_deref().unwrap_or("").lines().next().unwrap_or("").trim();
            let key = r.key.map_or("repo".to_owned(), |k| format!("repo{k}"));
            Some(format!("{key}: {message}"))
        })
        .collect()
}

/// The WAL archive of the current database: the newest `db[]` entry of the
/// first repository names it (system id and version); every repository's
/// entries for that database count, as `pgbackrest info` shows them.
fn current_archive(stanza: &Stanza) -> Option<Archive> {
    let first_key = stanza.db.first().map(|d| d.repo_key);
    let current = stanza.db.iter().rev().find(|d| Some(d.repo_key) == first_key);
    let is_current = |a: &RawArchive| -> bool {
        let Some(current) = current else {
            return true; // no history: every archive entry counts
        };
        let Some(db) = &a.database else {
            return false;
        };
        stanza.db.iter().any(|d| {
            Some(d.id) == db.id
                && d.repo_key == db.repo_key
                && d.system_id == current.system_id
                && d.version == current.version
        })
    };
    let mut archive: Option<Archive> = None;
    for entry in stanza.archive.iter().filter(|a| is_current(a)) {
        let range = archive.get_or_insert_with(Archive::default);
        range.min = [range.min.take(), entry.min.clone()].into_iter().flatten().min();
        range.max = [range.max.take(), entry.max.clone()].into_iter().flatten().max();
    }
    archive
}

/// One backup, or a note saying why it was left out.
fn backup(raw: RawBackup, multi_repo: bool) -> Result<Backup, String> {
    let stamp = |secs: Option<i64>| secs.and_then(|s| Timestamp::from_second(s).ok());
    let (started, stopped) = match &raw.timestamp {
        Some(t) => (stamp(t.start), stamp(t.stop)),
        None => (None, None),
    };
    let Some(time) = stopped else {
        return Err(format!("backup {} has no stop time; left out", raw.label));
    };
    let kind = match raw.kind.as_str() {
        "full" => BackupType::Full,
        "diff" => BackupType::Differential,
        "incr" => BackupType::Incremental,
        _ => BackupType::Other,
    };
    let mut b = Backup::new(raw.label, kind, time);
    b.started = started;
    b.size = raw.info.as_ref().and_then(|i| i.repository.as_ref()).and_then(|r| r.delta);
    b.original_size = raw.info.as_ref().and_then(|i| i.size);
    if kind == BackupType::Other {
        b.detail.push(("type".into(), raw.kind));
    }
    if let Some(prior) = raw.prior {
        b.detail.push(("prior".into(), prior));
    }
    if let Some(refs) = raw.reference {
        b.detail.push(("references".into(), refs.len().to_string()));
    }
    push_span(&mut b.detail, "wal", raw.archive);
    push_span(&mut b.detail, "lsn", raw.lsn);
    if let Some(db) = raw.database {
        if let Some(id) = db.id {
            b.detail.push(("database id".into(), id.to_string()));
        }
        if let Some(key) = db.repo_key.filter(|_| multi_repo) {
            b.detail.push(("repository".into(), format!("repo{key}")));
        }
    }
    for (key, value) in raw.annotation.into_iter().flatten() {
        let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
        b.detail.push((format!("annotation {key}"), value));
    }
    if raw.error == Some(true) {
        b.error = Some(BACKUP_ERROR.to_owned());
    }
    Ok(b)
}

/// `wal start/stop: A / B`, or whichever end is known.
fn push_span(detail: &mut Vec<(String, String)>, what: &str, span: Option<Span<String>>) {
    let Some(span) = span else {
        return;
    };
    match (span.start, span.stop) {
        (Some(start), Some(stop)) => detail.push((format!("{what} start/stop"), format!("{start} / {stop}"))),
        (Some(start), None) => detail.push((format!("{what} start"), start)),
        (None, Some(stop)) => detail.push((format!("{what} stop"), stop)),
        (None, None) => {}
    }
}
