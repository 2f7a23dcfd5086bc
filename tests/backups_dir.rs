//! A directory catalog built from real gzip files with real timestamps: the
//! scanner reads it, the assessment finds what is wrong (stale, gap, size
//! anomaly, retention), a corrupt dump fails verification, and the alert
//! rules fire on the tab's samples — the whole path the Backups tab takes.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, SystemTime};

use jiff::Timestamp;
use opsdeck::app::backups::BackupsPane;
use opsdeck::backups::checks::{CheckKind, CheckRecord};
use opsdeck::backups::findings::{FindingKind, Freshness, Verification};
use opsdeck::backups::model::{BackupType, ErrorState};
use opsdeck::backups::verify;
use opsdeck::config::backups::{BackupKind, BackupSource};
use opsdeck::sources::backups::CatalogReport;
use opsdeck::sources::backups::dir::DirCatalog;

const DAY: u64 = 86_400;

/// A real gzip dump of `lines` numbered lines, its mtime `age` ago, with a
/// sha256sum sidecar.
fn dump(dir: &Path, name: &str, lines: u32, age: Duration) {
    let path = dir.join(name);
    let text: String = (0..lines).map(|i| format!("INSERT INTO t VALUES ({i}, 'row {i}');\n")).collect();
    fs::write(dir.join("plain.tmp"), text).expect("write");
    let out = Command::new("gzip").args(["-c", "-6"]).arg(dir.join("plain.tmp")).output().expect("gzip");
    assert!(out.status.success());
    fs::write(&path, out.stdout).expect("write dump");
    fs::remove_file(dir.join("plain.tmp")).expect("rm");
    let sum = Command::new("sha256sum").arg(name).current_dir(dir).output().expect("sha256sum");
    fs::write(dir.join(format!("{name}.sha256")), sum.stdout).expect("sidecar");
    let when = SystemTime::now() - age;
    fs::File::options().write(true).open(&path).and_then(|f| f.set_modified(when)).expect("mtime");
}

fn policy(root: &Path, rpo: Duration) -> BackupSource {
    let mut p = BackupSource::new("mysql", BackupKind::Dir, root.to_string_lossy(), rpo);
    p.patterns = BTreeMap::from([(BackupType::Full, vec!["full/*.sql.gz".to_owned()])]);
    p.cadence = BTreeMap::from([(BackupType::Full, Duration::from_secs(DAY))]);
    p.retention = BTreeMap::from([(BackupType::Full, Duration::from_secs(7 * DAY))]);
    p
}

fn days(n: f64) -> Duration {
    Duration::from_secs_f64(n * DAY as f64)
}

#[test]
fn findings_verification_and_rules_from_a_real_directory() {
    let tmp = tempfile::tempdir().expect("tmp");
    let full = tmp.path().join("full");
    fs::create_dir_all(&full).expect("mkdir");
    // Nine nights, ages 1.5 … 9.5 days: the newest is past a 26 h RPO, one
    // night (4.5 days ago) is missing, the last night is a quarter the size,
    // and two are past the 7-day retention. No names carry times: mtimes count.
    for (i, age) in [9.5, 8.5, 7.5, 6.5, 5.5, 3.5, 2.5, 1.5].into_iter().enumerate() {
        let lines = if age == 1.5 { 5_000 } else { 20_000 };
        dump(&full, &format!("db_{i}.sql.gz"), lines, days(age));
    }
    // One corrupt dump: a real gzip file cut short (size kept normal-looking).
    dump(&full, "db_cut.sql.gz", 40_000, days(2.0));
    let cut = full.join("db_cut.sql.gz");
    let bytes = fs::read(&cut).expect("read");
    fs::write(&cut, &bytes[..bytes.len() * 2 / 3]).expect("truncate");
    fs::File::options()
        .write(true)
        .open(&cut)
        .and_then(|f| f.set_modified(SystemTime::now() - days(2.0)))
        .expect("mtime");

    let source = policy(tmp.path(), Duration::from_secs(26 * 3600));
    let mut scanner = DirCatalog::new(&source).expect("patterns");
    let catalog = scanner.scan().expect("scan");
    assert_eq!(catalog.backups.len(), 9);
    assert!(catalog.backups.iter().all(|b| b.checksum.is_some()), "every dump has its sidecar");

    // Verify: the good newest decodes and matches; the cut one fails.
    let stop = AtomicBool::new(false);
    let newest = catalog.backups.iter().find(|b| b.id == "full/db_7.sql.gz").expect("newest");
    let ok = verify::verify_file(
        newest.path.as_deref().expect("path"),
        newest.checksum.as_ref(),
        &stop,
        &mut |_| {},
    )
    .expect("a good dump verifies");
    assert!(ok.checksum.is_some() && ok.decoded_bytes > ok.bytes_read);
    let bad = catalog.backups.iter().find(|b| b.id == "full/db_cut.sql.gz").expect("cut");
    let err =
        verify::verify_file(bad.path.as_deref().expect("path"), bad.checksum.as_ref(), &stop, &mut |_| {})
            .expect_err("a cut dump fails");

    let now = Timestamp::now();
    let mut pane = BackupsPane::new(std::slice::from_ref(&source));
    pane.on_report(
        CatalogReport { catalog: "mysql".into(), result: Ok(catalog), took: Duration::ZERO },
        std::time::Instant::now(),
        now,
    );
    pane.on_checks(
        vec![CheckRecord {
            catalog: "mysql".into(),
            backup_id: "full/db_cut.sql.gz".into(),
            kind: CheckKind::Verify,
            result: Verification {
                at: now,
                ok: false,
                detail: err.to_string(),
                duration: Duration::from_secs(1),
            },
        }],
        now,
    );
    let a = pane.catalogs[0].assessment.clone().expect("assessed");
    let kinds: Vec<FindingKind> = a.findings.iter().map(|f| f.kind).collect();
    for want in [
        FindingKind::Stale,
        FindingKind::Gap,
        FindingKind::SizeAnomaly,
        FindingKind::Retention,
        FindingKind::VerifyFailed,
    ] {
        assert!(kinds.contains(&want), "{want:?} missing from {:#?}", a.findings);
    }
    assert_eq!(a.freshness, Freshness::Stale, "1.5 days against 26 h");
    let anomaly = a.findings.iter().find(|f| f.kind == FindingKind::SizeAnomaly).expect("anomaly");
    assert_eq!(anomaly.backup.as_deref(), Some("full/db_7.sql.gz"));
    let retention = a.findings.iter().find(|f| f.kind == FindingKind::Retention).expect("retention");
    assert!(
        retention.message.starts_with("3 full backup(s) older than the 7d retention"),
        "{}",
        retention.message
    );

    // The rule engine, fed the tab's samples, raises the built-in backup alerts.
    let mut engine = opsdeck::alerts::rules::RuleEngine::new(&opsdeck::config::alerts::builtin_rules());
    let alerts = engine.evaluate(now, &pane.samples(now));
    let firing = |a: &&opsdeck::alerts::model::Alert| a.state == opsdeck::alerts::model::AlertState::Firing;
    let names: Vec<&str> = alerts.iter().filter(firing).map(|a| a.name.as_str()).collect();
    for want in ["BackupStale", "BackupGap", "BackupSizeAnomaly", "BackupRetention", "BackupVerifyFailed"] {
        assert!(names.contains(&want), "{want} not firing: {names:?}");
    }
    assert!(!names.contains(&"BackupStaleCritical"), "1.5 days is under 2 × 26 h");
    let verify_alert = alerts.iter().find(|a| a.name == "BackupVerifyFailed").expect("alert");
    assert_eq!(verify_alert.labels.get("catalog").map(String::as_str), Some("mysql"));
}

#[test]
fn a_missing_root_is_a_state_with_its_path_and_the_rule_waits() {
    let tmp = tempfile::tempdir().expect("tmp");
    let source = policy(&tmp.path().join("not-mounted"), Duration::from_secs(3600));
    let err = DirCatalog::new(&source).expect("patterns").scan().expect_err("missing");
    assert_eq!(err.state, ErrorState::Missing);
    assert!(err.message.contains("not-mounted"), "{}", err.message);

    let now = Timestamp::now();
    let mut pane = BackupsPane::new(std::slice::from_ref(&source));
    pane.on_report(
        CatalogReport { catalog: "mysql".into(), result: Err(err), took: Duration::ZERO },
        std::time::Instant::now(),
        now,
    );
    let samples = pane.samples(now);
    let unreadable = samples.iter().find(|s| s.metric == "backup_catalog_error").expect("sample");
    assert_eq!(unreadable.value, 1.0);
    // The rule holds for two minutes before it fires: a remount is not a page.
    let mut engine = opsdeck::alerts::rules::RuleEngine::new(&opsdeck::config::alerts::builtin_rules());
    let state = |alerts: Vec<opsdeck::alerts::model::Alert>| {
        alerts.into_iter().find(|a| a.name == "BackupCatalogUnreadable").map(|a| a.state)
    };
    use opsdeck::alerts::model::AlertState;
    assert_eq!(state(engine.evaluate(now, &samples)), Some(AlertState::Pending));
    let later = now.checked_add(jiff::SignedDuration::from_secs(121)).expect("time");
    assert_eq!(state(engine.evaluate(later, &samples)), Some(AlertState::Firing));
}
