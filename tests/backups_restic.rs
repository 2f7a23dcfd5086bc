//! The restic catalog against a real repository: empty, then backed up twice
//! and listed; checked through the verify action's argv and environment;
//! locked by a running restic; and each failure a clear state (wrong
//! password, no repository, a password command that fails, a non-JSON
//! answer, a timeout, no restic) whose message never holds a password.
//!
//! One repository serves every scenario (`restic init` costs ≈ 2.3 s, every
//! later command ≈ 0.65 s); they run in order in one test.

mod backends;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use backends::restic::ResticRepo;
use opsdeck::backups::model::{BackupType, Catalog, CatalogError, ErrorState};
use opsdeck::config::backups::{BackupKind, BackupSource};
use opsdeck::config::secret::Secret;
use opsdeck::sources::backups::restic;
use opsdeck::sources::backups::tool::{self, ToolRun};

fn config(repo: &ResticRepo) -> BackupSource {
    let mut cfg =
        BackupSource::new("restic-test", BackupKind::Restic, repo.path().display().to_string(), HOUR);
    cfg.password = Some(Secret::File(repo.password_file()));
    cfg.timeout = Duration::from_secs(30);
    cfg
}

const HOUR: Duration = Duration::from_secs(3600);

/// The error, checked to hold none of the passwords involved.
fn error_without(result: Result<Catalog, CatalogError>, secrets: &[&str]) -> CatalogError {
    let e = result.expect_err("an error state");
    for secret in secrets {
        assert!(!e.to_string().contains(secret), "the message leaks a password: {e}");
        assert!(!format!("{e:?}").contains(secret), "Debug leaks a password: {e:?}");
    }
    e
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname").expect("hostname").trim().to_owned()
}

#[tokio::test]
async fn a_real_repository_listed_checked_locked_and_broken() {
    let repo = ResticRepo::init();
    // restic keeps a cache under $XDG_CACHE_HOME; point the runs opsdeck
    // makes at the repository's temp dir instead of the user's home.
    // SAFETY: this binary holds this one test, on a current-thread runtime:
    // no other thread reads the environment while it is set.
    unsafe { std::env::set_var("XDG_CACHE_HOME", repo.cache_dir()) };
    let cfg = config(&repo);

    let empty = Box::pin(restic::list(&cfg)).await.expect("an empty repository lists");
    assert!(empty.backups.is_empty(), "{empty:?}");

    let data = repo.dir().join("data");
    std::fs::create_dir(&data).expect("data dir");
    std::fs::write(data.join("dump.sql"), "CREATE TABLE t (id int);\n").expect("write data");
    let first = repo.backup(&data);
    std::fs::write(data.join("dump2.sql"), "INSERT INTO t VALUES (1);\n").expect("write data");
    let second = repo.backup(&data);

    // Boxed: each scenario's futures hold tool::run's read buffers, too
    // much for a test thread's stack when nested inline in debug builds.
    Box::pin(listed_twice(&cfg, &data, [&first, &second])).await;
    Box::pin(checked(&cfg, &repo)).await;
    Box::pin(locked(&cfg, &repo)).await;
    Box::pin(failures(&cfg, &repo)).await;
    Box::pin(answers_and_timeouts(&cfg, &repo)).await;
}

async fn listed_twice(cfg: &BackupSource, data: &Path, ids: [&String; 2]) {
    let catalog = restic::list(cfg).await.expect("list");
    let listed: Vec<&str> = catalog.backups.iter().map(|b| b.id.as_str()).collect();
    assert_eq!(listed, ids.map(String::as_str), "both snapshots, oldest first");
    assert!(catalog.backups[0].time < catalog.backups[1].time);
    let data = data.display().to_string();
    for b in &catalog.backups {
        assert_eq!(b.kind, BackupType::Full);
        assert_eq!(b.host.as_deref(), Some(hostname().as_str()));
        assert!(b.detail.contains(&("paths".to_owned(), data.clone())), "{:?}", b.detail);
        let full = b.detail.iter().find(|(k, _)| k == "id").map(|(_, v)| v.as_str()).unwrap_or_default();
        assert!(full.len() == 64 && full.starts_with(&b.id), "full id {full:?} of {}", b.id);
        let age = jiff::Timestamp::now().duration_since(b.time);
        assert!(age.as_secs() >= 0 && age.as_secs() < 120, "taken just now: {}", b.time);
    }
    assert!(catalog.backups[1].detail.contains(&("parent".to_owned(), ids[0].clone())));
}

/// `restic check` as the verify action runs it: check_argv with env.
async fn checked(cfg: &BackupSource, repo: &ResticRepo) {
    let mut cfg = cfg.clone();
    cfg.read_data_subset = Some("100%".into());
    let run = ToolRun {
        argv: restic::check_argv(&cfg),
        env: restic::env(&cfg).await.expect("env"),
        run_as: None,
        timeout: Duration::from_secs(60),
    };
    assert!(run.argv.iter().all(|a| !a.contains(repo.password())), "{:?}", run.argv);
    let out = tool::run(&run).await.expect("restic check runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.code, Some(0), "{stdout}\n{}", out.stderr);
    assert!(
        stdout.contains("read 100.0% of data packs") && stdout.contains("no errors were found"),
        "{stdout}"
    );
}

/// While another restic holds a lock, check (exclusive) is Locked and the
/// lock-free listing still answers.
async fn locked(cfg: &BackupSource, repo: &ResticRepo) {
    let holder = repo.hold_lock();
    let run = ToolRun {
        argv: restic::check_argv(cfg),
        env: restic::env(cfg).await.expect("env"),
        run_as: None,
        timeout: Duration::from_secs(30),
    };
    let out = tool::run(&run).await.expect("restic check runs");
    assert_ne!(out.code, Some(0));
    let e = restic::classify(&out);
    assert_eq!(e.state, ErrorState::Locked, "{e}");
    assert!(e.message.contains("already locked"), "{e}");
    let catalog = restic::list(cfg).await.expect("listing does not wait for the lock");
    assert_eq!(catalog.backups.len(), 2);
    drop(holder);
    assert_eq!(repo.locks(), 0, "the holder released its lock, the listing left none");
}

async fn failures(cfg: &BackupSource, repo: &ResticRepo) {
    let wrong = "Wr0ng-pw-4711";
    let mut bad = cfg.clone();
    bad.password = Some(Secret::Command(vec!["printf".into(), wrong.into()]));
    let e = error_without(restic::list(&bad).await, &[wrong, repo.password()]);
    assert_eq!(e.state, ErrorState::WrongPassword, "{e}");
    assert!(e.message.contains("wrong password"), "{e}");

    let mut nowhere = cfg.clone();
    nowhere.path = repo.dir().join("no-repo-here").display().to_string();
    let e = error_without(restic::list(&nowhere).await, &[repo.password()]);
    assert_eq!(e.state, ErrorState::NoRepository, "{e}");
    assert!(e.message.contains("no-repo-here"), "says where it looked: {e}");

    let mut sealed = cfg.clone();
    sealed.password =
        Some(Secret::Command(vec!["sh".into(), "-c".into(), "echo vault is sealed >&2; exit 3".into()]));
    let e = restic::list(&sealed).await.expect_err("no password, no listing");
    assert_eq!(e.state, ErrorState::WrongPassword, "{e}");
    assert!(e.message.contains("repository password") && e.message.contains("vault is sealed"), "{e}");
}

async fn answers_and_timeouts(cfg: &BackupSource, repo: &ResticRepo) {
    // A stand-in answering prose instead of JSON; it records its argv and
    // the password it received so the way they travel is checked too.
    let fake = repo.dir().join("fake-restic");
    let (argv_file, env_file) = (repo.dir().join("argv"), repo.dir().join("env"));
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nprintf '%s' \"$RESTIC_PASSWORD\" > '{}'\n\
         echo 'Welcome to restic!'\necho 'this is not JSON'\n",
        argv_file.display(),
        env_file.display()
    );
    std::fs::write(&fake, script).expect("write the stand-in");
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let e = error_without(restic::list_with(fake.to_str().expect("utf-8"), cfg).await, &[repo.password()]);
    assert_eq!(e.state, ErrorState::BadAnswer, "{e}");
    assert_eq!(e.message, "not JSON: Welcome to restic! this is not JSON");
    let argv = std::fs::read_to_string(&argv_file).expect("argv recorded");
    assert_eq!(argv, "snapshots\n--json\n--no-lock\n", "the password is not in argv");
    assert_eq!(std::fs::read_to_string(&env_file).expect("env recorded"), repo.password());

    let echoing = repo.dir().join("echoing-restic");
    std::fs::write(&echoing, "#!/bin/sh\necho \"Fatal: no key matches $RESTIC_PASSWORD\" >&2\nexit 1\n")
        .expect("write the stand-in");
    std::fs::set_permissions(&echoing, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let e = error_without(restic::list_with(echoing.to_str().expect("utf-8"), cfg).await, &[repo.password()]);
    assert_eq!((e.state, e.message.as_str()), (ErrorState::Failed, "no key matches ••••"));

    let missing = restic::list_with("/nonexistent/restic", cfg).await.expect_err("no such program");
    assert_eq!(missing.state, ErrorState::ToolMissing, "{missing}");

    let mut hurried = cfg.clone();
    hurried.timeout = Duration::from_millis(50);
    let started = Instant::now();
    let e = restic::list(&hurried).await.expect_err("restic needs ≈ 0.65 s");
    assert_eq!(e.state, ErrorState::Timeout, "{e}");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    assert_eq!(repo.locks(), 0, "a killed listing leaves no stale lock");
}
