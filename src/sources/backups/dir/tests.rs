use std::collections::BTreeMap;
use std::fs;
use std::time::{Duration, SystemTime};

use jiff::Timestamp;

use super::*;
use crate::config::backups::BackupKind;

fn utc(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn times_in_file_names_in_the_usual_spellings() {
    let mtime = utc("2020-01-01T00:00:00Z");
    let z = |name: &str| time_from_name(name, mtime);
    assert_eq!(z("app_20261122T030000Z.sql.gz"), Some(utc("2026-11-22T03:00:00Z")));
    assert_eq!(z("app-2026-11-22T03:04:05Z.dump"), Some(utc("2026-11-22T03:04:05Z")));
    assert_eq!(z("nothing-here.sql.gz"), None);
    assert_eq!(z("v2.3.sql.gz"), None);
    assert_eq!(z("app_20261399.sql.gz"), None, "month 13 is no date");
    // Local time without Z: whatever this machine's zone makes of it.
    let local = z("full_20261122_0300.sql.gz").unwrap();
    let expect =
        jiff::civil::date(2026, 11, 22).at(3, 0, 0, 0).to_zoned(jiff::tz::TimeZone::system()).unwrap();
    assert_eq!(local, expect.timestamp());
}

#[test]
fn a_date_only_name_takes_the_mtime_on_the_same_day() {
    let tz = jiff::tz::TimeZone::system();
    let ran = jiff::civil::date(2026, 11, 22).at(3, 17, 0, 0).to_zoned(tz.clone()).unwrap().timestamp();
    assert_eq!(time_from_name("mysql_20261122.sql.gz", ran), Some(ran));
    let copied_later =
        jiff::civil::date(2026, 11, 25).at(9, 0, 0, 0).to_zoned(tz.clone()).unwrap().timestamp();
    let midnight = jiff::civil::date(2026, 11, 22).to_zoned(tz).unwrap().timestamp();
    assert_eq!(time_from_name("mysql_20261122.sql.gz", copied_later), Some(midnight));
}

fn source(root: &Path) -> BackupSource {
    let mut s = BackupSource::new("t", BackupKind::Dir, root.to_string_lossy(), Duration::from_secs(3600));
    s.patterns = BTreeMap::from([
        (BackupType::Full, vec!["full/*.sql.gz".to_owned()]),
        (BackupType::Config, vec!["config_*.tar.gz".to_owned()]),
        (BackupType::Wal, vec!["binlog/**/*".to_owned()]),
    ]);
    s
}

fn set_mtime(path: &Path, t: SystemTime) {
    fs::File::options().write(true).open(path).unwrap().set_modified(t).unwrap();
}

#[test]
fn scans_by_pattern_attaches_sidecars_and_rescans_only_what_changed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    fs::create_dir_all(root.join("full")).unwrap();
    fs::create_dir_all(root.join("binlog/2026")).unwrap();
    fs::write(root.join("full/db_20261120T030000Z.sql.gz"), b"one").unwrap();
    fs::write(root.join("full/db_20261121T030000Z.sql.gz"), b"two!").unwrap();
    let digest = "a".repeat(64);
    fs::write(
        root.join("full/db_20261121T030000Z.sql.gz.sha256"),
        format!("{digest}  db_20261121T030000Z.sql.gz\n"),
    )
    .unwrap();
    fs::write(root.join("full/notes.txt"), b"not a backup").unwrap();
    fs::write(root.join("config_web.tar.gz"), b"cfg").unwrap();
    fs::write(root.join("binlog/2026/mysql-bin.000001"), b"b").unwrap();
    // Old enough that a rescan may trust the directories' mtimes.
    let old = SystemTime::now() - Duration::from_secs(3600);
    for d in ["", "full", "binlog", "binlog/2026"] {
        fs::File::open(root.join(d)).unwrap().set_modified(old).unwrap();
    }
    for f in [
        "full/db_20261120T030000Z.sql.gz",
        "full/db_20261121T030000Z.sql.gz",
        "full/db_20261121T030000Z.sql.gz.sha256",
        "full/notes.txt",
        "config_web.tar.gz",
    ] {
        set_mtime(&root.join(f), old);
    }

    let mut cat = DirCatalog::new(&source(root)).unwrap();
    let c = cat.scan().unwrap();
    let ids: Vec<(&str, BackupType)> = c.backups.iter().map(|b| (b.id.as_str(), b.kind)).collect();
    assert!(ids.contains(&("full/db_20261120T030000Z.sql.gz", BackupType::Full)), "{ids:?}");
    assert!(ids.contains(&("binlog/2026/mysql-bin.000001", BackupType::Wal)), "{ids:?}");
    assert!(ids.contains(&("config_web.tar.gz", BackupType::Config)), "{ids:?}");
    assert_eq!(c.backups.len(), 4, "notes.txt and the sidecar are not backups: {ids:?}");
    let second = c.backups.iter().find(|b| b.id == "full/db_20261121T030000Z.sql.gz").unwrap();
    assert_eq!(second.time, utc("2026-11-21T03:00:00Z"));
    assert_eq!(second.size, Some(4));
    assert_eq!(second.checksum.as_ref().map(|c| c.hex.as_str()), Some(digest.as_str()));
    assert_eq!(cat.stats.dirs_read, 4);

    let again = cat.scan().unwrap();
    assert_eq!(again, c);
    assert_eq!((cat.stats.dirs_read, cat.stats.dirs_reused), (0, 4));
    // Only the binlog written just now is stat'ed again (it may still grow).
    assert_eq!(cat.stats.files_stated, 1);

    // A new file changes its directory's mtime: that directory alone is read.
    fs::write(root.join("full/db_20261122T030000Z.sql.gz"), b"three").unwrap();
    let third = cat.scan().unwrap();
    assert_eq!(third.backups.len(), 5);
    assert_eq!((cat.stats.dirs_read, cat.stats.dirs_reused), (1, 3));
}

#[test]
fn a_missing_root_and_a_file_as_root_are_clear_states() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let err = DirCatalog::new(&source(&missing)).unwrap().scan().unwrap_err();
    assert_eq!(err.state, ErrorState::Missing);
    assert!(err.message.ends_with("nope: no such file or directory"), "{}", err.message);
    let file = tmp.path().join("f");
    fs::write(&file, b"x").unwrap();
    let err = DirCatalog::new(&source(&file)).unwrap().scan().unwrap_err();
    assert!(err.message.ends_with("is not a directory"), "{}", err.message);
}
