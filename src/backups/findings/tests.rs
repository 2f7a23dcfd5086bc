use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::Timestamp;

use super::*;
use crate::backups::model::{Backup, BackupType, Catalog};
use crate::config::backups::{BackupKind, BackupSource};

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;

fn now() -> Timestamp {
    "2026-11-22T12:00:00Z".parse().unwrap()
}

fn ago(secs: u64) -> Timestamp {
    now().checked_sub(jiff::SignedDuration::from_secs(secs as i64)).unwrap()
}

fn policy() -> BackupSource {
    let mut p = BackupSource::new("db", BackupKind::Dir, "/b", Duration::from_secs(26 * HOUR));
    p.cadence = BTreeMap::from([(BackupType::Full, Duration::from_secs(DAY))]);
    p.retention = BTreeMap::from([(BackupType::Full, Duration::from_secs(7 * DAY))]);
    p
}

/// One full backup a day for `days` days, the newest `newest_age` old, all `size` bytes.
fn daily(days: u64, newest_age: u64, size: u64) -> Catalog {
    let mut c = Catalog::default();
    for d in (0..days).rev() {
        let mut b = Backup::new(format!("full-{d}"), BackupType::Full, ago(newest_age + d * DAY));
        b.size = Some(size);
        c.backups.push(b);
    }
    c
}

fn kinds(a: &Assessment) -> Vec<FindingKind> {
    a.findings.iter().map(|f| f.kind).collect()
}

#[test]
fn a_catalog_that_keeps_its_promises_has_no_findings() {
    let a = assess(&policy(), &daily(7, 2 * HOUR, 1000), &HashMap::new(), now());
    assert_eq!(a.findings, vec![], "{:#?}", a.findings);
    assert_eq!((a.freshness, a.count, a.bytes), (Freshness::Fresh, 7, 7000));
    assert_eq!(a.newest, Some(ago(2 * HOUR)));
}

#[test]
fn freshness_turns_amber_red_and_critical_against_the_rpo() {
    let rpo = Duration::from_secs(10 * HOUR);
    let f = |age| freshness(Some(ago(age)), rpo, now());
    assert_eq!(
        [f(7 * HOUR), f(9 * HOUR), f(11 * HOUR), f(21 * HOUR)],
        [Freshness::Fresh, Freshness::Due, Freshness::Stale, Freshness::Critical]
    );
    assert_eq!(freshness(None, rpo, now()), Freshness::Critical);
}

#[test]
fn stale_is_a_warning_past_the_rpo_and_critical_past_twice_it() {
    let warn = assess(&policy(), &daily(7, 30 * HOUR, 1000), &HashMap::new(), now());
    let stale = warn.findings.iter().find(|f| f.kind == FindingKind::Stale).unwrap();
    assert_eq!(stale.severity, Severity::Warning);
    assert!(stale.message.contains("past the RPO of 26h"), "{}", stale.message);
    let crit = assess(&policy(), &daily(7, 60 * HOUR, 1000), &HashMap::new(), now());
    assert_eq!(crit.findings[0].severity, Severity::Critical);
    let empty = assess(&policy(), &Catalog::default(), &HashMap::new(), now());
    assert_eq!(empty.findings[0].message, "no backup at all (RPO 26h)");
}

#[test]
fn a_missing_daily_backup_is_a_gap_and_so_is_one_missing_since_the_newest() {
    let mut c = daily(7, 2 * HOUR, 1000);
    c.backups.remove(3);
    let a = assess(&policy(), &c, &HashMap::new(), now());
    assert_eq!(kinds(&a), [FindingKind::Gap]);
    assert!(
        a.findings[0].message.starts_with("1 expected full backup(s) missing"),
        "{}",
        a.findings[0].message
    );

    // Newest is two and a half days old: two expected ones since are missing.
    let late = assess(&policy(), &daily(5, 60 * HOUR, 1000), &HashMap::new(), now());
    let gap = late.findings.iter().find(|f| f.kind == FindingKind::Gap).unwrap();
    assert!(gap.message.starts_with("2 expected"), "{}", gap.message);
}

#[test]
fn cron_jitter_is_not_a_gap() {
    let mut c = daily(7, 2 * HOUR, 1000);
    c.backups[3].time = c.backups[3].time.checked_add(jiff::SignedDuration::from_hours(5)).unwrap();
    assert_eq!(kinds(&assess(&policy(), &c, &HashMap::new(), now())), []);
}

#[test]
fn a_backup_under_half_the_median_of_the_previous_ones_is_an_anomaly() {
    let mut c = daily(7, 2 * HOUR, 1000);
    c.backups[6].size = Some(400);
    c.backups[4].size = Some(600); // 60 %: not an anomaly at the default ratio
    let a = assess(&policy(), &c, &HashMap::new(), now());
    assert_eq!(kinds(&a), [FindingKind::SizeAnomaly]);
    assert_eq!(a.findings[0].backup.as_deref(), Some("full-0"));
    assert!(a.findings[0].message.contains("(40%)"), "{}", a.findings[0].message);
}

#[test]
fn retention_reports_backups_kept_too_long() {
    let a = assess(&policy(), &daily(10, 2 * HOUR, 1000), &HashMap::new(), now());
    assert_eq!(kinds(&a), [FindingKind::Retention]);
    assert!(
        a.findings[0].message.starts_with("3 full backup(s) older than the 7d retention"),
        "{:?}",
        a.findings
    );
}

#[test]
fn fewer_than_promised_is_information_not_an_alarm() {
    let a = assess(&policy(), &daily(3, 2 * HOUR, 1000), &HashMap::new(), now());
    assert_eq!(kinds(&a), [FindingKind::Retention]);
    assert_eq!(a.findings[0].severity, Severity::Info);
    assert!(
        a.findings[0].message.starts_with("only 3 full backup(s), the policy keeps 7"),
        "{:?}",
        a.findings
    );
}

#[test]
fn a_failed_verification_of_the_newest_backup_is_critical() {
    let c = daily(7, 2 * HOUR, 1000);
    let failed = |detail: &str| Verification {
        at: now(),
        ok: false,
        detail: detail.to_owned(),
        duration: Duration::from_secs(1),
    };
    let mut v = HashMap::from([("full-0".to_owned(), failed("gzip: unexpected end of file"))]);
    v.insert("full-3".to_owned(), failed("sha256 mismatch"));
    v.insert("full-2".to_owned(), Verification { ok: true, ..failed("ok") });
    let a = assess(&policy(), &c, &v, now());
    assert_eq!(kinds(&a), [FindingKind::VerifyFailed, FindingKind::VerifyFailed]);
    assert_eq!(a.findings[0].severity, Severity::Critical);
    assert!(a.findings[0].message.starts_with("full-0 failed verification: gzip"), "{:?}", a.findings);
    assert_eq!(a.findings[1].severity, Severity::Warning);
}

#[test]
fn config_archives_do_not_count_for_the_rpo_unless_alone() {
    let mut c = daily(3, 40 * HOUR, 1000);
    c.backups.push(Backup::new("config.tar.gz", BackupType::Config, ago(HOUR)));
    c.sort();
    let a = assess(&policy(), &c, &HashMap::new(), now());
    assert_eq!(a.newest, Some(ago(40 * HOUR)));
    let only =
        Catalog { backups: vec![Backup::new("c", BackupType::Config, ago(HOUR))], ..Catalog::default() };
    assert_eq!(assess(&policy(), &only, &HashMap::new(), now()).newest, Some(ago(HOUR)));
}

#[test]
fn a_backup_the_tool_flags_does_not_count_as_the_newest() {
    let mut c = daily(3, 2 * HOUR, 1000);
    c.backups[2].error = Some("backup has errors".into());
    let a = assess(&policy(), &c, &HashMap::new(), now());
    assert_eq!(a.newest, Some(ago(26 * HOUR)));
}
