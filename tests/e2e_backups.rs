//! The Backups tab end to end: the real binary in a PTY over a directory of
//! real gzip dumps with sha256 sidecars. The operator opens the tab, sees
//! the catalog against its RPO, drills into its backups, verifies the newest
//! one through the guarded pipeline — it was cut short, so verification
//! fails — and the failure shows on the backup, on the catalog, and as a
//! critical alert; after a restart the stored result is still there.

mod common;
#[path = "support/gzip_dump.rs"]
mod gzip_dump;

use std::fs;
use std::path::Path;
use std::time::{Duration, SystemTime};

use common::{Sandbox, Session};

const TABS: [&str; 5] = ["1 Metrics", "2 Alerts", "3 Replication", "4 Backups", "5 Logs"];

fn wait_first_frame(s: &Session) {
    s.wait_for("the first frame", |t| TABS.iter().all(|tab| t.contains(tab)));
}

/// A real gzip dump with its sha256sum sidecar, `age` old.
fn dump(dir: &Path, name: &str, lines: u32, age: Duration) {
    let (path, _) = gzip_dump::gzip_dump(dir, name, lines);
    let when = SystemTime::now() - age;
    fs::File::options().write(true).open(path).and_then(|f| f.set_modified(when)).expect("mtime");
}

fn session(sandbox: &Sandbox, config: &Path) -> Session {
    let s = sandbox.spawn_sized(&[common::BIN, "--config", config.to_str().expect("utf-8")], &[], 40, 160);
    wait_first_frame(&s);
    // The store opens after the first frame; actions are audited there, and
    // the stored checks are read from it.
    s.wait_for("the state store", |t| t.contains("store ✓"));
    s
}

#[test]
fn verifying_a_cut_dump_fails_shows_everywhere_and_is_remembered() {
    let sandbox = Sandbox::new();
    let full = sandbox.path().join("dumps/full");
    fs::create_dir_all(&full).expect("mkdir");
    let hour = Duration::from_secs(3600);
    dump(&full, "db_a.sql.gz", 30_000, hour * 50);
    dump(&full, "db_b.sql.gz", 30_000, hour * 26);
    dump(&full, "db_c.sql.gz", 30_000, hour * 2);
    // The newest was cut short after its sidecar was written: a dump that
    // ran out of disk, a copy interrupted.
    let newest = full.join("db_c.sql.gz");
    let bytes = fs::read(&newest).expect("read");
    fs::write(&newest, &bytes[..bytes.len() / 2]).expect("cut");
    fs::File::options()
        .write(true)
        .open(&newest)
        .and_then(|f| f.set_modified(SystemTime::now() - hour * 2))
        .expect("mtime");
    let config = sandbox.write(
        "backups.toml",
        &format!(
            "[[backups]]\nname = \"mysql-dumps\"\nkind = \"dir\"\npath = \"{}\"\nrpo = \"26h\"\ninterval = \"1s\"\n\
             [backups.patterns]\nfull = \"full/*.sql.gz\"\n",
            sandbox.path().join("dumps").display()
        ),
    );

    let mut s = session(&sandbox, &config);
    s.send("4");
    let summary = s.wait_for("the catalog row", |t| t.contains("mysql-dumps") && t.contains("✓ ok"));
    assert!(summary.contains("    3 "), "three dumps counted:\n{summary}");
    s.send("j");
    s.send("\r");
    s.wait_for("the drill-down, newest first", |t| {
        t.contains("3 backups, newest first") && t.contains("full/db_c.sql.gz")
    });
    s.send("x");
    s.wait_for("the action menu", |t| t.contains("Verify (decode to the end"));
    s.send("\r");
    let dialog = s.wait_for("the verify dialog", |t| t.contains("Run it? [y] yes"));
    assert!(dialog.contains("compare sha256 with"), "{dialog}");
    s.send("y");
    let run = s.wait_for("the verify to fail", |t| {
        t.contains("verify_backup on full/db_c.sql.gz") && t.contains("gzip")
    });
    assert!(!run.contains("ok: gzip decoded"), "{run}");
    s.send("\x1b");
    s.wait_for("the failed check on the backup", |t| t.contains("✗ bad"));
    s.send("2");
    s.wait_for("the critical alert", |t| t.contains("failed verification"));
    s.send("q");
    assert_eq!(s.wait_exit(), 0, "{}", s.dump());

    // Stored: a new run shows the failure before anyone verifies again.
    let mut again = session(&sandbox, &config);
    again.send("4");
    again.wait_for("the catalog row", |t| t.contains("mysql-dumps") && t.contains("verify failed"));
    again.send("j");
    again.send("\r");
    again.wait_for("the stored check on the backup", |t| t.contains("✗ bad"));
    again.send("q");
    assert_eq!(again.wait_exit(), 0, "{}", again.dump());
}
