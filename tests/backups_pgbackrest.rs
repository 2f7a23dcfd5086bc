//! The pgBackRest catalog against a real stanza on the test's own
//! PostgreSQL: a full backup listed, a differential one added (seen in
//! progress first), verify passing and then failing on a damaged repository,
//! and a wrong stanza, a missing config and an encrypted repository read
//! with the right and a wrong passphrase, each as a clear state.
//!
//! One stanza serves every scenario (its full backup costs ≈ 3.5 s); they
//! run in order, the damaging one last.

mod backends;

use std::path::{Path, PathBuf};
use std::time::Duration;

use backends::pgbackrest::PgBackRest;
use backends::{READY_DEADLINE, wait_for};
use opsdeck::backups::model::{BackupType, Catalog, ErrorState};
use opsdeck::config::backups::{BackupKind, BackupSource};
use opsdeck::config::secret::Secret;
use opsdeck::sources::backups::pgbackrest;
use opsdeck::sources::backups::tool::{self, ToolOutput, ToolRun};

const TIMEOUT: Duration = Duration::from_secs(30);
const PASSPHRASE: &str = "Enc-pass-4711-xyz";

fn source(config: &Path, stanza: &str) -> BackupSource {
    let mut cfg = BackupSource::new("pg", BackupKind::Pgbackrest, "", Duration::from_secs(3600));
    cfg.stanza = Some(stanza.to_owned());
    cfg.config_file = Some(config.to_path_buf());
    cfg.run_as = Some("postgres".into());
    cfg.timeout = TIMEOUT;
    cfg
}

async fn list(cfg: &BackupSource) -> Catalog {
    pgbackrest::list(cfg).await.unwrap_or_else(|e| panic!("listing {:?}: {e}", cfg.stanza))
}

#[tokio::test]
async fn a_real_stanza_is_listed_verified_and_its_failures_are_clear_states() {
    let pb = PgBackRest::start();
    let cfg = source(&pb.config_path(), pb.stanza());

    // The full backup `start` took.
    let catalog = list(&cfg).await;
    assert_eq!(catalog.backups.len(), 1, "{catalog:?}");
    let full = &catalog.backups[0];
    assert_eq!(full.kind, BackupType::Full);
    assert!(full.id.ends_with('F'), "a full backup's label: {}", full.id);
    assert!(full.started.is_some_and(|s| s <= full.time), "{full:?}");
    assert!(full.size.is_some_and(|s| s > 0) && full.original_size.is_some_and(|s| s > 0), "{full:?}");
    assert!(full.size < full.original_size, "lz4 in the repository: {full:?}");
    assert!(full.is_good());
    let archive = catalog.archive.clone().expect("a WAL archive");
    let (min, max) = (archive.min.expect("archive min"), archive.max.expect("archive max"));
    assert!(min <= max, "{min} / {max}");
    assert!(catalog.notes.is_empty(), "{:?}", catalog.notes);

    // A differential backup: seen in progress through the backup lock, then listed.
    let mut running = pb.spawn_backup("diff");
    wait_for("the running backup's lock to show", READY_DEADLINE, || {
        let cfg = cfg.clone();
        let finished = running.try_wait().expect("poll the backup").is_some();
        async move {
            assert!(!finished, "the backup ended before info saw its lock");
            let notes = pgbackrest::list(&cfg).await.ok()?.notes;
            notes.iter().any(|n| n == pgbackrest::BACKUP_IN_PROGRESS).then_some(())
        }
    })
    .await;
    let out = running.wait_with_output().expect("the backup");
    assert!(out.status.success(), "backup --type=diff: {}", String::from_utf8_lossy(&out.stderr));
    let catalog = list(&cfg).await;
    let kinds: Vec<BackupType> = catalog.backups.iter().map(|b| b.kind).collect();
    assert_eq!(kinds, [BackupType::Full, BackupType::Differential]);
    let diff = &catalog.backups[1];
    assert!(diff.time >= catalog.backups[0].time);
    assert!(diff.detail.contains(&("prior".into(), catalog.backups[0].id.clone())), "{:?}", diff.detail);
    assert!(diff.size < catalog.backups[0].size, "a diff of an idle database is small: {diff:?}");
    assert!(catalog.archive.and_then(|a| a.max).is_some_and(|m| m > max), "the archive grew");
    assert!(catalog.notes.is_empty(), "{:?}", catalog.notes);

    // Verify, run as postgres the way the action runs it.
    let verify = ToolRun {
        argv: pgbackrest::verify_argv(&cfg),
        env: Vec::new(),
        run_as: Some("postgres".into()),
        timeout: TIMEOUT,
    };
    let out = run_tool(&verify).await;
    assert_eq!(out.code, Some(0), "verify: {}", out.stderr);
    assert!(pgbackrest::verify_outcome(&out).is_ok(), "{out:?}");

    // A stanza that was never created.
    let wrong = source(&pb.config_path(), "nope");
    let err = pgbackrest::list(&wrong).await.unwrap_err();
    assert_eq!(err.state, ErrorState::NoRepository, "{err}");
    assert!(err.message.contains("missing stanza path"), "{err}");
    // verify exits 0 for it: its report says what is wrong.
    let out = run_tool(&pgbackrest::verify_run(&wrong).await.expect("no secret")).await;
    let err = pgbackrest::verify_outcome(&out).unwrap_err();
    assert!(err.message.contains("stanza nope: error"), "{err}");

    // A config file that is not there, with a passphrase configured.
    let mut missing = source(Path::new("/nonexistent/od-pgbackrest.conf"), pb.stanza());
    missing.password = Some(Secret::File(passphrase_file(pb.dir(), "right.pass", PASSPHRASE)));
    let err = pgbackrest::list(&missing).await.unwrap_err();
    assert_eq!(err.state, ErrorState::NoRepository, "{err}");
    assert!(err.message.contains("/nonexistent/od-pgbackrest.conf"), "{err}");
    assert!(!err.message.contains(PASSPHRASE) && !format!("{err:?}").contains(PASSPHRASE));

    // An encrypted repository: the passphrase goes through the environment.
    let enc_config = pb.encrypted_stanza(PASSPHRASE);
    let mut enc = source(&enc_config, pb.stanza());
    enc.password = Some(Secret::File(passphrase_file(pb.dir(), "right.pass", PASSPHRASE)));
    let fresh = list(&enc).await;
    assert!(fresh.backups.is_empty());
    assert!(fresh.notes.iter().any(|n| n.contains("no valid backups")), "{:?}", fresh.notes);
    enc.password = Some(Secret::File(passphrase_file(pb.dir(), "wrong.pass", "not-the-passphrase")));
    let err = pgbackrest::list(&enc).await.unwrap_err();
    assert_eq!(err.state, ErrorState::WrongPassword, "{err}");
    assert!(!err.message.contains("not-the-passphrase") && !err.message.contains(PASSPHRASE), "{err}");
    enc.password = None;
    let err = pgbackrest::list(&enc).await.unwrap_err();
    assert_eq!(err.state, ErrorState::WrongPassword, "no passphrase at all: {err}");

    // Last, as it damages the repository: a backup file goes missing.
    let pg_version = find_backup_file(&pb.repo(), &catalog.backups[0].id, "PG_VERSION");
    std::fs::remove_file(&pg_version).expect("remove a backup file");
    let out = run_tool(&verify).await;
    let err = pgbackrest::verify_outcome(&out).unwrap_err();
    assert_eq!(err.state, ErrorState::Failed);
    assert!(err.message.contains("status: invalid") && err.message.contains("missing: 1"), "{err}");
}

/// Run a tool to its end. Boxed: `tool::run`'s future holds a 64 KiB read
/// buffer, and a test awaiting many of them inline overflows its stack.
async fn run_tool(run: &ToolRun) -> ToolOutput {
    Box::pin(tool::run(run)).await.unwrap_or_else(|e| panic!("{:?}: {e}", run.argv))
}

/// A passphrase file, read by opsdeck (the test) and handed to pgBackRest in its environment.
fn passphrase_file(dir: &Path, name: &str, value: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, format!("{value}\n")).expect("write passphrase");
    path
}

/// `pg_data/<name>` of a backup, whatever compression suffix it has.
fn find_backup_file(repo: &Path, label: &str, name: &str) -> PathBuf {
    let dir = repo.join("backup").join(backends::pgbackrest::STANZA).join(label).join("pg_data");
    std::fs::read_dir(&dir)
        .expect("the backup's pg_data")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with(name)))
        .unwrap_or_else(|| panic!("{name} in {}", dir.display()))
}
