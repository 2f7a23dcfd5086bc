//! restic repositories: `restic snapshots --json --no-lock` becomes a
//! [`Catalog`] with one full backup per snapshot, and restic's failures
//! become states an operator acts on (no repository, locked, wrong password).
//!
//! The repository location and password travel in the child's environment
//! (`RESTIC_REPOSITORY`, `RESTIC_PASSWORD`), never in argv: a location can be
//! an s3/rest URL carrying credentials, and argv is visible to every user in
//! `ps`. Listing runs with `--no-lock`: a poll must never wait behind a
//! running backup or prune, and a poll killed at its timeout must not leave a
//! stale lock that blocks the next backup.

use jiff::Timestamp;
use serde::Deserialize;

use super::tool::{self, ToolOutput, ToolRun};
use crate::backups::model::{Backup, BackupType, Catalog, CatalogError, ErrorState};
use crate::config::backups::BackupSource;
use crate::config::secret::SecretValue;

/// Longest message kept from restic's stderr.
const MESSAGE_CHARS: usize = 200;

/// How restic 0.14 (which exits 1 for every failure) says there is no
/// repository at the location.
const NO_REPOSITORY_WORDS: [&str; 3] = [
    "Is there a repository at the following location?",
    "repository does not exist",
    "unable to open config file",
];

/// Read the repository's snapshots.
pub async fn list(cfg: &BackupSource) -> Result<Catalog, CatalogError> {
    list_with("restic", cfg).await
}

/// [`list`] with another program in restic's place: tests use it to give the
/// reader answers restic would never give (non-JSON) and to see the argv and
/// environment it passes.
pub async fn list_with(program: &str, cfg: &BackupSource) -> Result<Catalog, CatalogError> {
    let env = env(cfg).await?;
    let run = ToolRun {
        argv: [program, "snapshots", "--json", "--no-lock"].map(str::to_owned).to_vec(),
        env,
        run_as: cfg.run_as.clone(),
        timeout: cfg.timeout,
    };
    let out = tool::run(&run).await?;
    if out.code != Some(0) {
        let mut e = classify(&out);
        // restic never echoes the password; a wrapper or a future version
        // might, and the message is shown and stored.
        if let Some((_, password)) =
            run.env.iter().find(|(k, v)| k == "RESTIC_PASSWORD" && !v.expose().is_empty())
        {
            e.message = e.message.replace(password.expose(), "••••");
        }
        return Err(e);
    }
    parse_snapshots(&out.stdout)
}

/// The environment of every restic run for this catalog (list and check).
///
/// Besides the repository and the password it blanks the variables that
/// would otherwise compete with them when opsdeck's own environment happens
/// to carry them (restic refuses `-r` with a repository file, and a password
/// file or command would override the configured secret).
pub async fn env(cfg: &BackupSource) -> Result<Vec<(String, SecretValue)>, CatalogError> {
    let Some(secret) = &cfg.password else {
        return Err(CatalogError::new(
            ErrorState::WrongPassword,
            "no repository password configured (password_env, password_file or password_command)",
        ));
    };
    let password = secret.resolve().await.map_err(|e| {
        CatalogError::new(ErrorState::WrongPassword, format!("cannot read the repository password: {e}"))
    })?;
    let blank = || SecretValue::new(String::new());
    Ok(vec![
        ("RESTIC_REPOSITORY".into(), SecretValue::new(cfg.path.clone())),
        ("RESTIC_PASSWORD".into(), password),
        ("RESTIC_REPOSITORY_FILE".into(), blank()),
        ("RESTIC_PASSWORD_FILE".into(), blank()),
        ("RESTIC_PASSWORD_COMMAND".into(), blank()),
    ])
}

/// Argv of the verify action: `restic check`, reading a subset of the pack
/// data when configured (structure only otherwise). Run it with [`env`].
pub fn check_argv(cfg: &BackupSource) -> Vec<String> {
    let mut argv = vec!["restic".to_owned(), "check".to_owned()];
    if let Some(subset) = cfg.read_data_subset.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        argv.push(format!("--read-data-subset={subset}"));
    }
    argv
}

/// A failed restic run as a state. restic ≥ 0.17 says it by exit code
/// (10 no repository, 11 locked, 12 wrong password); 0.14 exits 1 for all
/// of them, so its stderr is recognised too.
pub fn classify(out: &ToolOutput) -> CatalogError {
    let text = out.stderr.as_str();
    let state = match out.code {
        Some(10) => ErrorState::NoRepository,
        Some(11) => ErrorState::Locked,
        Some(12) => ErrorState::WrongPassword,
        _ if text.contains("wrong password or no key found") => ErrorState::WrongPassword,
        _ if NO_REPOSITORY_WORDS.iter().any(|w| text.contains(w)) => ErrorState::NoRepository,
        _ if text.contains("repository is already locked") => ErrorState::Locked,
        _ => ErrorState::Failed,
    };
    CatalogError::new(state, reason(out))
}

/// The line that says why: restic prints `Fatal: <why>` and then hints
/// ("Is there a repository at the following location?", the path, "the
/// `unlock` command can be used ..."), so the last line is rarely the reason.
fn reason(out: &ToolOutput) -> String {
    let lines = || out.stderr.lines().map(str::trim);
    let line = lines()
        .find_map(|l| l.strip_prefix("Fatal:").map(str::trim))
        .or_else(|| lines().find(|l| l.contains("already locked")))
        .filter(|l| !l.is_empty())
        .map_or_else(|| out.reason(), str::to_owned);
    without_url_passwords(&line).chars().take(MESSAGE_CHARS).collect()
}

/// `scheme://user:secret@host` → `scheme://user:***@host`: restic quotes the
/// repository location in some messages, and rest/s3 locations can carry
/// credentials.
fn without_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (head, tail) = rest.split_at(at + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', ' ']).unwrap_or(tail.len());
        match tail[..authority_end].rfind('@').and_then(|a| tail[..a].find(':').map(|c| (c, a))) {
            Some((colon, at)) => {
                out.push_str(&tail[..=colon]);
                out.push_str("***");
                rest = &tail[at..];
            }
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

/// One snapshot as `restic snapshots --json` prints it. 0.14 prints time,
/// parent, tree, paths, hostname, username, uid, gid, excludes, tags, id and
/// short_id; ≥ 0.17 adds program_version and a `summary` of the backup run
/// (restic's `SnapshotSummary`). Everything but time and an id is optional.
#[derive(Deserialize)]
struct Snapshot {
    time: Timestamp,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    short_id: Option<String>,
    #[serde(default)]
    parent: Option<String>,
    #[serde(default)]
    hostname: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    paths: Option<Vec<String>>,
    #[serde(default)]
    tags: Option<Vec<String>>,
    #[serde(default)]
    program_version: Option<String>,
    #[serde(default)]
    summary: Option<Summary>,
}

/// restic ≥ 0.17's per-snapshot statistics (the fields we show).
#[derive(Deserialize)]
struct Summary {
    #[serde(default)]
    backup_start: Option<Timestamp>,
    #[serde(default)]
    backup_end: Option<Timestamp>,
    #[serde(default)]
    data_added: Option<u64>,
    #[serde(default)]
    data_added_packed: Option<u64>,
    #[serde(default)]
    total_bytes_processed: Option<u64>,
}

/// Parse `restic snapshots --json`: an array of snapshots (`null` or `[]`
/// when there are none).
pub fn parse_snapshots(json: &[u8]) -> Result<Catalog, CatalogError> {
    let snapshots: Option<Vec<Snapshot>> = serde_json::from_slice(json).map_err(|e| bad_answer(json, &e))?;
    let mut catalog = Catalog::default();
    for snapshot in snapshots.unwrap_or_default() {
        catalog.backups.push(to_backup(snapshot)?);
    }
    catalog.sort();
    Ok(catalog)
}

/// A snapshot as a backup. Its time is the snapshot's own (when restic
/// started reading, or what `--time` set): that is the point the data can
/// be restored to, and what `restic snapshots` shows.
fn to_backup(s: Snapshot) -> Result<Backup, CatalogError> {
    let full_id = s.id.filter(|i| !i.is_empty());
    let id = s.short_id.filter(|i| !i.is_empty()).or_else(|| full_id.as_deref().map(short));
    let Some(id) = id else {
        return Err(CatalogError::new(ErrorState::BadAnswer, "a snapshot without an id"));
    };
    let mut backup = Backup::new(id, BackupType::Full, s.time);
    backup.host = s.hostname.filter(|h| !h.is_empty());
    let mut detail = |key: &str, value: String| {
        if !value.is_empty() {
            backup.detail.push((key.to_owned(), value));
        }
    };
    detail("paths", s.paths.unwrap_or_default().join(", "));
    detail("tags", s.tags.unwrap_or_default().join(", "));
    detail("parent", s.parent.as_deref().map(short).unwrap_or_default());
    detail("user", s.username.unwrap_or_default());
    detail("restic", s.program_version.unwrap_or_default());
    detail("id", full_id.unwrap_or_default());
    if let Some(summary) = s.summary {
        if let Some(end) = summary.backup_end {
            backup.detail.push(("finished".to_owned(), end.to_string()));
        }
        backup.started = summary.backup_start;
        backup.size = summary.data_added_packed.or(summary.data_added);
        backup.original_size = summary.total_bytes_processed;
    }
    Ok(backup)
}

/// restic's short form of an id: its first 8 characters.
fn short(id: &str) -> String {
    id.chars().take(8).collect()
}

/// A non-JSON (or not restic's JSON) answer, with a one-line excerpt.
fn bad_answer(json: &[u8], e: &serde_json::Error) -> CatalogError {
    let text = String::from_utf8_lossy(json);
    let excerpt = tool::excerpt(&text);
    if excerpt.is_empty() {
        return CatalogError::new(ErrorState::BadAnswer, "restic printed nothing");
    }
    let what = if e.is_data() { "not restic's snapshot list" } else { "not JSON" };
    CatalogError::new(ErrorState::BadAnswer, format!("{what}: {excerpt}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// restic 0.14.0 (`restic snapshots --json` on Debian 12), two snapshots,
    /// the second with a parent and no tags.
    const V0_14: &str = r#"[{"time":"2026-11-23T02:16:21.184931497Z","tree":"aa2ccb25","paths":["/srv/data"],"hostname":"vm","username":"root","tags":["daily","db"],"id":"77ddbd90aee13d51753bb0c8331eb6fa39223943b3b725973084c7b557db1613","short_id":"77ddbd90"},{"time":"2026-11-23T03:16:21.912647794+01:00","parent":"77ddbd90aee13d51753bb0c8331eb6fa39223943b3b725973084c7b557db1613","tree":"27c60535","paths":["/srv/data","/etc"],"hostname":"vm","username":"root","uid":0,"gid":0,"excludes":["*.tmp"],"id":"5fb33ea3f963ad957c8414c08db0bef8a66d423ba16f7e3becf0448867c60cde","short_id":"5fb33ea3"}]"#;

    /// restic 0.17 shape: program_version and summary (restic's
    /// `SnapshotSummary`), newest first to prove the sort.
    const V0_17: &str = r#"[{"time":"2026-11-24T01:00:00.5+00:00","tree":"t2","paths":["/srv"],"hostname":"db1","username":"backup","program_version":"restic 0.17.3","summary":{"backup_start":"2026-11-24T01:00:00.5Z","backup_end":"2026-11-24T01:02:00Z","files_new":3,"files_changed":1,"files_unmodified":900,"dirs_new":0,"dirs_changed":2,"dirs_unmodified":40,"data_blobs":5,"tree_blobs":3,"data_added":52000,"data_added_packed":21000,"total_files_processed":904,"total_bytes_processed":7340032},"id":"bbbbbbbbcccc","short_id":"bbbbbbbb"},{"time":"2026-11-23T01:00:00Z","tree":"t1","paths":["/srv"],"hostname":"db1","summary":{"data_added":4096},"id":"aaaaaaaa1111"}]"#;

    fn details(b: &Backup) -> Vec<(&str, &str)> {
        b.detail.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    #[test]
    fn restic_0_14_snapshots_become_full_backups_oldest_first() {
        let c = parse_snapshots(V0_14.as_bytes()).unwrap();
        let ids: Vec<&str> = c.backups.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["77ddbd90", "5fb33ea3"]);
        let second = &c.backups[1];
        assert_eq!(second.kind, BackupType::Full);
        assert_eq!(second.time, "2026-11-23T02:16:21.912647794Z".parse::<Timestamp>().unwrap());
        assert_eq!(second.host.as_deref(), Some("vm"));
        assert_eq!((second.size, second.started), (None, None));
        let d = details(second);
        assert!(d.contains(&("paths", "/srv/data, /etc")), "{d:?}");
        assert!(d.contains(&("parent", "77ddbd90")), "{d:?}");
        assert!(d.iter().any(|(k, v)| *k == "id" && v.starts_with("5fb33ea3") && v.len() == 64), "{d:?}");
        assert!(!d.iter().any(|(k, _)| *k == "tags"), "no tags, no line: {d:?}");
        assert!(details(&c.backups[0]).contains(&("tags", "daily, db")));
    }

    #[test]
    fn restic_0_17_summaries_give_sizes_and_start() {
        let c = parse_snapshots(V0_17.as_bytes()).unwrap();
        let ids: Vec<&str> = c.backups.iter().map(|b| b.id.as_str()).collect();
        assert_eq!(ids, ["aaaaaaaa", "bbbbbbbb"], "sorted, the short id made from the id");
        let newest = &c.backups[1];
        assert_eq!(newest.size, Some(21_000), "packed bytes are what the repository grew by");
        assert_eq!(newest.original_size, Some(7_340_032));
        assert_eq!(newest.started, Some("2026-11-24T01:00:00.5Z".parse().unwrap()));
        assert!(details(newest).contains(&("finished", "2026-11-24T01:02:00Z")));
        assert!(details(newest).contains(&("restic", "restic 0.17.3")));
        assert_eq!(c.backups[0].size, Some(4096), "data_added when there is no packed size");
    }

    #[test]
    fn no_snapshots_is_an_empty_catalog() {
        for empty in ["[]", "null", " [ ]\n"] {
            assert_eq!(parse_snapshots(empty.as_bytes()), Ok(Catalog::default()), "{empty}");
        }
    }

    #[test]
    fn anything_else_is_a_bad_answer_with_a_short_excerpt() {
        let long = format!("Welcome to restic\n{}", "x".repeat(300));
        let e = parse_snapshots(long.as_bytes()).unwrap_err();
        assert_eq!(e.state, ErrorState::BadAnswer);
        assert!(e.message.starts_with("not JSON: Welcome to restic x"), "{}", e.message);
        assert!(!e.message.contains('\n') && e.message.len() < 100, "{}", e.message);
        let e = parse_snapshots(br#"{"snapshots": []}"#).unwrap_err();
        assert!(e.message.starts_with("not restic's snapshot list"), "{}", e.message);
        let e = parse_snapshots(br#"[{"time":"2026-11-23T01:00:00Z"}]"#).unwrap_err();
        assert_eq!((e.state, e.message.as_str()), (ErrorState::BadAnswer, "a snapshot without an id"));
        assert_eq!(parse_snapshots(b"").unwrap_err().message, "restic printed nothing");
    }

    fn output(code: i32, stderr: &str) -> ToolOutput {
        ToolOutput { code: Some(code), stdout: Vec::new(), stderr: stderr.to_owned() }
    }

    #[test]
    fn failures_become_states_by_exit_code_or_by_restic_0_14s_words() {
        let no_repo = "Fatal: unable to open config file: stat /b/repo/config: no such file or directory\n\
                       Is there a repository at the following location?\n/b/repo\n";
        let locked = "unable to create lock in backend: repository is already locked by PID 19346 on vm by \
                      root (UID 0, GID 0)\nlock was created at 2026-11-23 02:17:13 (3.5s ago)\nstorage ID \
                      a8a0aa58\nthe `unlock` command can be used to remove stale locks\n";
        let cases = [
            (
                output(1, "Fatal: wrong password or no key found\n"),
                ErrorState::WrongPassword,
                "wrong password",
            ),
            (output(1, no_repo), ErrorState::NoRepository, "unable to open config file: stat /b/repo"),
            (output(1, locked), ErrorState::Locked, "unable to create lock in backend: repository is"),
            (output(10, "Fatal: repository does not exist: /b\n"), ErrorState::NoRepository, "repository"),
            (output(11, "Fatal: locked\n"), ErrorState::Locked, "locked"),
            (output(12, "Fatal: wrong password or no key found\n"), ErrorState::WrongPassword, "wrong"),
            (
                output(1, "Fatal: unable to open repository at s3:host/b: Access Denied\n"),
                ErrorState::Failed,
                "unable to open repository at s3",
            ),
            (output(3, ""), ErrorState::Failed, "exit code 3"),
        ];
        for (out, state, message) in cases {
            let e = classify(&out);
            assert_eq!(e.state, state, "{}", out.stderr);
            assert!(e.message.starts_with(message), "{} vs {message}", e.message);
            assert!(!e.message.contains('\n'));
        }
    }

    #[test]
    fn credentials_in_quoted_locations_are_masked() {
        let out = output(
            1,
            "Fatal: unable to open config file: Get \"https://od:S3cr3t@backup.example/r/config\": EOF\n",
        );
        let e = classify(&out);
        assert!(e.message.contains("https://od:***@backup.example/r/config"), "{}", e.message);
        assert!(!e.message.contains("S3cr3t"));
        assert_eq!(
            without_url_passwords("rest:http://host:8000/ and s3://k@h/"),
            "rest:http://host:8000/ and s3://k@h/"
        );
    }

    #[test]
    fn check_reads_a_subset_only_when_configured() {
        let mut cfg = BackupSource::new(
            "r",
            crate::config::backups::BackupKind::Restic,
            "/r",
            std::time::Duration::from_secs(3600),
        );
        assert_eq!(check_argv(&cfg), ["restic", "check"]);
        cfg.read_data_subset = Some("5%".into());
        assert_eq!(check_argv(&cfg), ["restic", "check", "--read-data-subset=5%"]);
    }

    #[tokio::test]
    async fn the_password_goes_to_the_environment_only() {
        use crate::config::secret::Secret;
        let mut cfg = BackupSource::new(
            "r",
            crate::config::backups::BackupKind::Restic,
            "rest:https://u:p@host/",
            std::time::Duration::from_secs(3600),
        );
        let none = env(&cfg).await.unwrap_err();
        assert_eq!(none.state, ErrorState::WrongPassword);
        cfg.password = Some(Secret::Command(vec!["printf".into(), "hunter2".into()]));
        let env = env(&cfg).await.unwrap();
        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.expose().to_owned());
        assert_eq!(get("RESTIC_PASSWORD").as_deref(), Some("hunter2"));
        assert_eq!(get("RESTIC_REPOSITORY").as_deref(), Some("rest:https://u:p@host/"));
        assert_eq!(get("RESTIC_PASSWORD_FILE").as_deref(), Some(""));
        assert!(!format!("{env:?}").contains("hunter2"));
        assert!(check_argv(&cfg).iter().all(|a| !a.contains("hunter2") && !a.contains("u:p@")));
    }
}
