//! Pure tests with answers recorded from pgBackRest 2.45 (Debian 12) where
//! marked, and shapes written from `src/command/info/info.c` where a
//! situation (several repositories) is costly to build for real.

use std::path::PathBuf;
use std::time::Duration;

use super::*;
use crate::backups::model::{Archive, BackupType};
use crate::config::backups::BackupKind;
use crate::config::secret::Secret;
use crate::sources::backups::tool::ToolOutput;

/// Recorded: a full, a diff and an incr backup, taken while another backup
/// held the lock.
const THREE_BACKUPS_LOCKED: &str = r#"[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000007","min":"000000010000000000000001"}],"backup":[{"archive":{"start":"000000010000000000000002","stop":"000000010000000000000003"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":22992577,"repository":{"delta":4522519,"size":4522519},"size":22992577},"label":"20261123-021634F","lsn":{"start":"0/2000028","stop":"0/3000050"},"prior":null,"reference":null,"timestamp":{"start":1795400194,"stop":1795400197},"type":"full"},{"archive":{"start":"000000010000000000000004","stop":"000000010000000000000005"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":8458,"repository":{"delta":493,"size":4522521},"size":22992578},"label":"20261123-021634F_20261123-021641D","lsn":{"start":"0/4000028","stop":"0/5000050"},"prior":"20261123-021634F","reference":["20261123-021634F"],"timestamp":{"start":1795400201,"stop":1795400202},"type":"diff"},{"archive":{"start":"000000010000000000000006","stop":"000000010000000000000007"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":false,"info":{"delta":8458,"repository":{"delta":490,"size":4522518},"size":22992578},"label":"20261123-021634F_20261123-021643I","lsn":{"start":"0/6000028","stop":"0/7000050"},"prior":"20261123-021634F_20261123-021641D","reference":["20261123-021634F","20261123-021634F_20261123-021641D"],"timestamp":{"start":1795400203,"stop":1795400204},"type":"incr"}],"cipher":"none","db":[{"id":1,"repo-key":1,"system-id":7711185106287085604,"version":"15"}],"name":"main","repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}}],"status":{"code":0,"lock":{"backup":{"held":true}},"message":"ok"}}]"#;

/// Recorded: `--stanza=nope`, which was never created (exit 0).
const MISSING_STANZA_PATH: &str = r#"[{"archive":[],"backup":[],"cipher":"none","db":[],"name":"nope","repo":[{"cipher":"none","key":1,"status":{"code":1,"message":"missing stanza path"}}],"status":{"code":1,"lock":{"backup":{"held":false}},"message":"missing stanza path"}}]"#;

/// Recorded: right after stanza-create.
const NO_BACKUPS: &str = r#"[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":null,"min":null}],"backup":[],"cipher":"none","db":[{"id":1,"repo-key":1,"system-id":7711185106287085604,"version":"15"}],"name":"main","repo":[{"cipher":"none","key":1,"status":{"code":2,"message":"no valid backups"}}],"status":{"code":2,"lock":{"backup":{"held":false}},"message":"no valid backups"}}]"#;

/// Written from info.c: the stanza path exists, backup.info does not.
const MISSING_STANZA_DATA: &str = r#"[{"archive":[],"backup":[],"cipher":"none","db":[],"name":"main","repo":[{"cipher":"none","key":1,"status":{"code":3,"message":"missing stanza data"}}],"status":{"code":3,"lock":{"backup":{"held":false}},"message":"missing stanza data"}}]"#;

/// Recorded: `--repo1-path=/root` read as the postgres user (exit 0).
const OTHER_PERMISSION: &str = r#"[{"archive":[],"backup":[],"cipher":"none","db":[],"name":"main","repo":[{"cipher":"none","key":1,"status":{"code":99,"message":"[PathOpenError] unable to list file info for path '/root/backup': [13] Permission denied"}}],"status":{"code":99,"lock":{"backup":{"held":false}},"message":"other"}}]"#;

/// Recorded: an aes-256-cbc repository read with a wrong passphrase. The
/// message carries raw bytes of the undecrypted file: invalid UTF-8 and a
/// raw control character (0x1c), so the answer is not valid JSON as printed.
const WRONG_PASSPHRASE: &[u8] = b"[{\"archive\":[],\"backup\":[],\"cipher\":\"aes-256-cbc\",\"db\":[],\"name\":\"main\",\"repo\":[{\"cipher\":\"aes-256-cbc\",\"key\":1,\"status\":{\"code\":99,\"message\":\"[FormatError] unable to load info file '/tmp/od-pb/encrepo/backup/main/backup.info' or '/tmp/od-pb/encrepo/backup/main/backup.info.copy':\\nFormatError: key/value found outside of section at line 1: >ai\xd9\xbd\x1c/u\xd2\xe6R\x90\\nHINT: has a stanza-create been performed?\"}}],\"status\":{\"code\":99,\"lock\":{\"backup\":{\"held\":false}},\"message\":\"other\"}}]";

/// Written from info.c (2.33+): two repositories, repo2 without the stanza,
/// so the overall status is 4, "different across repos" ("mixed" in text);
/// repo1's backup is still listed, with its repo-key.
const MIXED: &str = r#"[{"archive":[{"database":{"id":1,"repo-key":1},"id":"15-1","max":"000000010000000000000009","min":"000000010000000000000004"}],"backup":[{"archive":{"start":"000000010000000000000004","stop":"000000010000000000000005"},"backrest":{"format":5,"version":"2.45"},"database":{"id":1,"repo-key":1},"error":true,"info":{"delta":100,"repository":{"delta":40,"size":40},"size":100},"label":"20240101-000000F","prior":null,"reference":null,"timestamp":{"start":1704067200,"stop":1704067260},"type":"full","annotation":{"source":"cron"}}],"cipher":"none","db":[{"id":1,"repo-key":1,"system-id":1,"version":"15"}],"name":"main","repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}},{"cipher":"none","key":2,"status":{"code":1,"message":"missing stanza path"}}],"status":{"code":4,"lock":{"backup":{"held":false}},"message":"different across repos"}}]"#;

/// Written from info.c: after a stanza-upgrade (db 1 was PG 14, db 2 is PG
/// 15); only the current database's archive counts.
const UPGRADED: &str = r#"[{"archive":[{"database":{"id":1,"repo-key":1},"id":"14-1","max":"000000010000000000000003","min":"000000010000000000000001"},{"database":{"id":2,"repo-key":1},"id":"15-2","max":"000000010000000000000012","min":"000000010000000000000010"}],"backup":[],"cipher":"none","db":[{"id":1,"repo-key":1,"system-id":1,"version":"14"},{"id":2,"repo-key":1,"system-id":2,"version":"15"}],"name":"main","status":{"code":2,"message":"no valid backups"}}]"#;

fn parse(json: &str, stanza: &str) -> Result<Catalog, CatalogError> {
    parse_info(json.as_bytes(), stanza)
}

#[test]
fn a_full_a_diff_and_an_incr_are_listed_oldest_first_with_sizes_and_details() {
    let json = THREE_BACKUPS_LOCKED.replace(r#""held":true"#, r#""held":false"#);
    let catalog = parse(&json, "main").expect("ok stanza");
    let kinds: Vec<BackupType> = catalog.backups.iter().map(|b| b.kind).collect();
    assert_eq!(kinds, [BackupType::Full, BackupType::Differential, BackupType::Incremental]);
    let full = &catalog.backups[0];
    assert_eq!(full.id, "20261123-021634F");
    assert_eq!(full.time.as_second(), 1795400197);
    assert_eq!(full.started.map(|t| t.as_second()), Some(1795400194));
    assert_eq!((full.size, full.original_size), (Some(4522519), Some(22992577)));
    assert!(full.is_good());
    let incr = &catalog.backups[2];
    let detail = |k: &str| incr.detail.iter().find(|(key, _)| key == k).map(|(_, v)| v.as_str());
    assert_eq!(detail("prior"), Some("20261123-021634F_20261123-021641D"));
    assert_eq!(detail("references"), Some("2"));
    assert_eq!(detail("wal start/stop"), Some("000000010000000000000006 / 000000010000000000000007"));
    assert_eq!(detail("lsn start/stop"), Some("0/6000028 / 0/7000050"));
    assert_eq!(detail("database id"), Some("1"));
    assert_eq!(detail("repository"), None, "one repository: no need to say which");
    let archive = catalog.archive.expect("archive");
    assert_eq!(archive.min.as_deref(), Some("000000010000000000000001"));
    assert_eq!(archive.max.as_deref(), Some("000000010000000000000007"));
    assert!(catalog.notes.is_empty(), "{:?}", catalog.notes);
}

#[test]
fn a_held_backup_lock_is_a_note() {
    let catalog = parse(THREE_BACKUPS_LOCKED, "main").expect("ok stanza");
    assert_eq!(catalog.notes, [BACKUP_IN_PROGRESS]);
    assert_eq!(catalog.backups.len(), 3);
}

#[test]
fn missing_stanza_path_and_data_mean_no_repository() {
    let path = parse(MISSING_STANZA_PATH, "nope").unwrap_err();
    assert_eq!(path.state, ErrorState::NoRepository);
    assert!(path.message.contains("missing stanza path") && path.message.contains("\"nope\""), "{path}");
    let data = parse(MISSING_STANZA_DATA, "main").unwrap_err();
    assert_eq!(data.state, ErrorState::NoRepository);
    assert!(data.message.contains("missing stanza data"), "{data}");
}

#[test]
fn a_fresh_stanza_is_an_empty_catalog_with_a_note() {
    let catalog = parse(NO_BACKUPS, "main").expect("not an error");
    assert!(catalog.backups.is_empty());
    assert_eq!(catalog.notes.len(), 1);
    assert!(catalog.notes[0].contains("no valid backups"), "{:?}", catalog.notes);
    assert_eq!(catalog.archive, Some(Archive::default()), "the archive exists, empty");
}

#[test]
fn status_other_fails_with_each_repositorys_error() {
    let err = parse(OTHER_PERMISSION, "main").unwrap_err();
    assert_eq!(err.state, ErrorState::Failed);
    assert!(
        err.message.contains("repo1: [PathOpenError]") && err.message.contains("Permission denied"),
        "{err}"
    );
}

#[test]
fn an_undecryptable_repository_is_a_wrong_passphrase_on_one_line() {
    let err = parse_info(WRONG_PASSPHRASE, "main").unwrap_err();
    assert_eq!(err.state, ErrorState::WrongPassword, "{err}");
    assert!(!err.message.contains('\n'), "{err}");
    assert!(err.message.contains("unable to load info file"), "{err}");
}

#[test]
fn mixed_repositories_list_what_is_there_with_a_note_per_repository() {
    let catalog = parse(MIXED, "main").expect("mixed is not an error");
    assert_eq!(catalog.notes[1..], ["repo1: ok", "repo2: missing stanza path"]);
    assert!(catalog.notes[0].contains("differs across repositories"), "{:?}", catalog.notes);
    let b = &catalog.backups[0];
    assert_eq!(b.error.as_deref(), Some(BACKUP_ERROR));
    assert!(!b.is_good());
    assert!(b.detail.contains(&("repository".into(), "repo1".into())), "{:?}", b.detail);
    assert!(b.detail.contains(&("annotation source".into(), "cron".into())), "{:?}", b.detail);
    // Older spelling: the message itself says "mixed".
    let old = MIXED.replace(
        r#""code":4,"lock":{"backup":{"held":false}},"message":"different across repos""#,
        r#""code":5,"message":"mixed""#,
    );
    let catalog = parse(&old, "main").expect("mixed is not an error");
    assert_eq!(catalog.notes[1..], ["repo1: ok", "repo2: missing stanza path"]);
}

#[test]
fn other_codes_fail_with_pgbackrests_message() {
    let mismatch = MIXED.replace(
        r#""code":4,"lock":{"backup":{"held":false}},"message":"different across repos""#,
        r#""code":5,"message":"database mismatch across repos""#,
    );
    let err = parse(&mismatch, "main").unwrap_err();
    assert_eq!(err.state, ErrorState::Failed);
    assert!(err.message.contains("database mismatch across repos") && err.message.contains("repo2"), "{err}");
}

#[test]
fn only_the_current_databases_archive_counts() {
    let catalog = parse(UPGRADED, "main").expect("ok");
    let archive = catalog.archive.expect("archive");
    assert_eq!(archive.min.as_deref(), Some("000000010000000000000010"));
    assert_eq!(archive.max.as_deref(), Some("000000010000000000000012"));
}

#[test]
fn another_stanza_only_is_no_repository() {
    let err = parse(NO_BACKUPS, "other").unwrap_err();
    assert_eq!(err.state, ErrorState::NoRepository);
    assert!(err.message.contains("\"other\" not found"), "{err}");
}

#[test]
fn a_backup_without_stop_time_is_left_out_with_a_note_and_unknown_fields_are_ignored() {
    let json = r#"[{"name":"main","future":{"x":1},"status":{"code":0,"message":"ok"},"backup":[
        {"label":"A","type":"full","timestamp":{"start":10}},
        {"label":"B","type":"snapshot","timestamp":{"start":10,"stop":20},"new-field":[1,2]}]}]"#;
    let catalog = parse(json, "main").expect("lenient");
    assert_eq!(catalog.backups.len(), 1);
    assert_eq!(catalog.backups[0].kind, BackupType::Other);
    assert!(catalog.backups[0].detail.contains(&("type".into(), "snapshot".into())));
    assert!(catalog.notes.iter().any(|n| n.contains("backup A has no stop time")), "{:?}", catalog.notes);
}

#[test]
fn garbage_is_a_bad_answer_with_a_short_one_line_excerpt() {
    let garbage = format!("stanza: main\n    status: ok\n{}", "x".repeat(200));
    let err = parse(&garbage, "main").unwrap_err();
    assert_eq!(err.state, ErrorState::BadAnswer);
    assert!(!err.message.contains('\n') && err.message.contains("stanza: main"), "{err}");
    assert!(err.message.len() < 250, "{}", err.message.len());
    assert_eq!(parse("", "main").unwrap_err().state, ErrorState::BadAnswer);
    assert_eq!(parse(r#"{"name":"main"}"#, "main").unwrap_err().state, ErrorState::BadAnswer);
}

fn output(code: i32, stdout: &str, stderr: &str) -> ToolOutput {
    ToolOutput { code: Some(code), stdout: stdout.as_bytes().to_vec(), stderr: stderr.to_owned() }
}

#[test]
fn failures_are_classified_by_pgbackrests_error_code() {
    // Recorded (2.45), stderr with --log-level-stderr=warn.
    let missing =
        classify(&output(55, "", "ERROR: [055]: unable to open missing file '/nonexistent.conf' for read\n"));
    assert_eq!(missing.state, ErrorState::NoRepository);
    assert_eq!(missing.message, "[055]: unable to open missing file '/nonexistent.conf' for read");
    let locked = classify(&output(
        50,
        "",
        "ERROR: [050]: unable to acquire lock on file '/tmp/od/lock/main-backup.lock': Resource temporarily unavailable\n       HINT: is another pgBackRest process running?\n",
    ));
    assert_eq!(locked.state, ErrorState::Locked);
    assert!(locked.message.starts_with("[050]: unable to acquire lock"), "{locked}");
    let no_pass =
        classify(&output(37, "", "ERROR: [037]: info command requires option: repo1-cipher-pass\n"));
    assert_eq!(no_pass.state, ErrorState::WrongPassword);
    // Console logging to stdout, with a timestamp (a config's log-level-console).
    let console = classify(&output(
        29,
        "2026-11-23 02:16:48.484 P00  ERROR: [029]: lz4 error: [-16] ERROR_decompressionFailed\n",
        "",
    ));
    assert_eq!(
        (console.state, console.message.as_str()),
        (ErrorState::Failed, "[029]: lz4 error: [-16] ERROR_decompressionFailed")
    );
    let denied = classify(&output(
        41,
        "",
        "ERROR: [041]: unable to open file '/x/backup.info': [13] Permission denied\n",
    ));
    assert_eq!(denied.state, ErrorState::Unreadable);
    // No error line: the exit code is the error code.
    let bare = classify(&output(50, "", "something odd\n"));
    assert_eq!((bare.state, bare.message.as_str()), (ErrorState::Locked, "something odd"));
}

#[test]
fn verify_reports_are_judged() {
    assert!(verify_outcome(&output(0, "", "")).is_ok());
    // Recorded (2.45): a backup file removed from the repository.
    let report = "stanza: main\nstatus: error\n  backup: 20261123-021634F, status: invalid, total files checked: 964, total valid files: 963\n    missing: 1\n  backup: B, status: invalid\n    missing: 1\n  backup: C, status: invalid\n    missing: 1\n";
    let err = verify_outcome(&output(0, report, "")).unwrap_err();
    assert_eq!(err.state, ErrorState::Failed);
    assert!(
        err.message.starts_with("stanza main: error; backup: 20261123-021634F, status: invalid"),
        "{err}"
    );
    assert!(err.message.ends_with("3 more"), "{err}");
    let locked = verify_outcome(&output(50, "", "ERROR: [050]: unable to acquire lock\n")).unwrap_err();
    assert_eq!(locked.state, ErrorState::Locked);
}

fn source() -> BackupSource {
    let mut cfg = BackupSource::new("pg", BackupKind::Pgbackrest, "", Duration::from_secs(3600));
    cfg.stanza = Some("main".into());
    cfg.config_file = Some(PathBuf::from("/etc/od/pgbackrest.conf"));
    cfg.run_as = Some("postgres".into());
    cfg
}

#[test]
fn argv_name_config_and_stanza_and_keep_stdout_for_the_answer() {
    let cfg = source();
    let info = info_argv(&cfg);
    assert_eq!(info[..3], ["pgbackrest", "--config=/etc/od/pgbackrest.conf", "--stanza=main"]);
    assert_eq!(info[info.len() - 2..], ["--output=json", "info"]);
    assert!(info.contains(&"--log-level-console=off".to_owned()));
    let verify = verify_argv(&cfg);
    assert_eq!(verify.last().map(String::as_str), Some("verify"));
    let mut bare = cfg.clone();
    bare.config_file = None;
    assert_eq!(info_argv(&bare)[1], "--stanza=main");
}

#[tokio::test]
async fn the_passphrase_travels_in_the_environment_only() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("pass");
    std::fs::write(&file, "Cipher-s3cret-77\n").expect("write");
    let mut cfg = source();
    cfg.password = Some(Secret::File(file));
    let run = verify_run(&cfg).await.expect("resolves");
    assert!(run.argv.iter().all(|a| !a.contains("Cipher-s3cret-77")), "{:?}", run.argv);
    assert_eq!(run.env.len(), 1);
    assert_eq!((run.env[0].0.as_str(), run.env[0].1.expose()), (CIPHER_PASS_ENV, "Cipher-s3cret-77"));
    assert!(!format!("{run:?}").contains("Cipher-s3cret-77"));
    let echoed = CatalogError::new(ErrorState::Failed, "bad pass Cipher-s3cret-77 given");
    assert!(!scrub(echoed, &run.env).message.contains("Cipher-s3cret-77"));
    cfg.password = Some(Secret::File(dir.path().join("absent")));
    let err = verify_run(&cfg).await.unwrap_err();
    assert_eq!(err.state, ErrorState::WrongPassword);
}

#[tokio::test]
async fn no_stanza_configured_is_a_clear_failure() {
    let mut cfg = source();
    cfg.stanza = None;
    let err = list(&cfg).await.unwrap_err();
    assert_eq!((err.state, err.message.as_str()), (ErrorState::Failed, "no stanza configured"));
}
