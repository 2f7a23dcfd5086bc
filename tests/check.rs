//! `opsdeck check`, the one-shot inspection: the real binary against a real
//! Alertmanager, loopback health endpoints, a closed port and a server that
//! never answers. The exit code follows the worst line (2 critical, 3 a
//! source could not be checked, 1 warning, 0 OK), the three formats carry
//! the same lines, and a hung backend costs its timeout, not the run.

mod backends;
mod common;
#[path = "support/gzip_dump.rs"]
mod gzip_dump;

use std::process::Output;

use backends::Alertmanager;
use backends::fake_http::{FakeServer, Reply};
use common::Sandbox;
use serde_json::json;

/// The resource rules off: this node's disk or CPU must not decide the verdict here.
const QUIET_NODE: &str = "[[rules]]\nname = \"HighCpu\"\nenabled = false\n\n\
    [[rules]]\nname = \"HighMemory\"\nenabled = false\n\n\
    [[rules]]\nname = \"DiskFull\"\nenabled = false\n";

fn check(sandbox: &Sandbox, config: &str, format: &[&str]) -> (i32, String) {
    let path = sandbox.write("check.toml", &format!("{config}\n{QUIET_NODE}"));
    let mut args = vec!["--config", path.to_str().expect("utf-8"), "check"];
    args.extend(format);
    let Output { status, stdout, stderr } = sandbox.command(args).output().expect("run opsdeck check");
    let out = String::from_utf8_lossy(&stdout).into_owned();
    assert!(stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&stderr));
    (status.code().expect("an exit code"), out)
}

fn health(name: &str, url: &str) -> String {
    format!("[[health]]\nname = \"{name}\"\nurl = \"{url}\"\ntimeout = \"1s\"\nslow = \"900ms\"\n")
}

fn line_of<'a>(out: &'a str, subject: &str) -> &'a str {
    out.lines().find(|l| l.split_whitespace().nth(1) == Some(subject)).unwrap_or("")
}

#[test]
fn exit_codes_and_formats_follow_what_the_sources_say() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
    let am = rt.block_on(Alertmanager::start());
    let web = rt.block_on(FakeServer::start(|req| async move {
        match req.path.as_str() {
            "/health" => Reply::json(200, r#"{"status":"UP"}"#),
            "/hang" => Reply::Hang,
            _ => Reply::json(503, r#"{"status":"DOWN"}"#),
        }
    }));
    let sandbox = Sandbox::new();

    // Nothing wrong: exit 0, one OK line for the check.
    let (code, out) = check(&sandbox, &health("api", &format!("{}/health", web.url)), &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(": OK (") && line_of(&out, "api").starts_with("  OK"), "{out}");

    // A failing check: critical, exit 2, the reason in the line; Markdown says the same.
    let failing =
        health("api", &format!("{}/health", web.url)) + &health("ready", &format!("{}/ready", web.url));
    let (code, out) = check(&sandbox, &failing, &["--markdown"]);
    assert_eq!(code, 2, "{out}");
    assert!(out.starts_with("## opsdeck check: ") && out.contains("— **CRITICAL**"), "{out}");
    assert!(out.contains("| CRIT | ready | down: 503 Service Unavailable (expected 2xx)"), "{out}");
    assert!(out.contains("| OK | api | up, 200 in"), "{out}");

    // Alertmanager's firing alerts by severity; a warning alone exits 1.
    rt.block_on(am.post_alerts(&json!([
        {"labels": {"alertname": "ReplicaLagging", "instance": "db3:3306", "severity": "warning"},
         "annotations": {"summary": "replica db3 is 12 s behind"}},
    ])));
    let am_config = format!("[[alertmanager]]\nname = \"am\"\nurl = \"{}\"\ntimeout = \"2s\"\n", am.url());
    let (code, out) = check(&sandbox, &am_config, &["--json"]);
    let report: serde_json::Value = serde_json::from_str(out.trim()).expect("one JSON object");
    assert_eq!((code, report["exit_code"].as_i64()), (1, Some(1)), "{out}");
    let lines = report["lines"].as_array().expect("lines");
    let lagging = lines.iter().find(|l| l["subject"] == "ReplicaLagging").expect("the alert's line");
    assert_eq!((&lagging["area"], &lagging["status"]), (&json!("alerts"), &json!("warn")));
    assert!(lagging["detail"].as_str().is_some_and(|d| d.contains("db3 is 12 s behind")), "{lagging}");
    assert!(lines.iter().any(|l| l["subject"] == "am" && l["status"] == "ok"), "{out}");

    // A source that cannot be reached is unknown (exit 3) unless something is critical.
    let closed = backends::free_port();
    let gone =
        format!("[[alertmanager]]\nname = \"gone\"\nurl = \"http://127.0.0.1:{closed}\"\ntimeout = \"1s\"\n");
    let (code, out) = check(&sandbox, &format!("{am_config}{gone}"), &[]);
    assert_eq!(code, 3, "{out}");
    assert!(line_of(&out, "gone").starts_with("  UNKNOWN") && out.contains("refused"), "{out}");
    let (code, out) = check(&sandbox, &format!("{failing}{gone}"), &[]);
    assert_eq!(code, 2, "critical outranks unknown:\n{out}");

    // A server that never answers costs its timeout and is reported, not waited on.
    let started = std::time::Instant::now();
    let (code, out) = check(&sandbox, &health("stuck", &format!("{}/hang", web.url)), &[]);
    assert_eq!(code, 2, "{out}");
    assert!(line_of(&out, "stuck").contains("timed out after 1s"), "{out}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "the run waited on a hung server");
}

/// `[[nodes]]` targets: a real node_exporter is a resources line with its
/// figures; one that does not answer is down, which is critical.
#[test]
fn scraped_nodes_are_judged_and_a_dead_one_is_critical() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
    let exporter = rt.block_on(backends::node_exporter::NodeExporter::start());
    let sandbox = Sandbox::new();
    let closed = backends::free_port();
    let config = format!(
        "[[nodes]]\nname = \"live\"\nurl = \"{}\"\n\n[[nodes]]\nname = \"dead\"\nurl = \"http://127.0.0.1:{closed}/metrics\"\ntimeout = \"1s\"\n",
        exporter.url()
    );
    let (code, out) = check(&sandbox, &config, &[]);
    let live = line_of(&out, &format!("127.0.0.1:{}", exporter.port()));
    assert!(live.contains("memory") && live.contains("disk") && live.contains("(live)"), "{out}");
    let dead = line_of(&out, &format!("127.0.0.1:{closed}"));
    assert!(dead.starts_with("  CRIT") && dead.contains("down (dead)") && dead.contains("refused"), "{out}");
    assert_eq!(code, 2, "{out}");
}

#[test]
fn a_broken_config_is_unknown_with_its_position() {
    let sandbox = Sandbox::new();
    let path = sandbox.write("bad.toml", "[[health]]\nname = \"x\"\nurl = \"ftp://host/\"\n");
    let out = sandbox.command(["--config", path.to_str().expect("utf-8"), "check"]).output().expect("run");
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.toml:1:1") && err.contains("must start with http://"), "{err}");
}

/// A gzip dump of `lines` INSERTs with its sha256sum sidecar, then cut in
/// half after the sidecar was written: a dump that ran out of disk.
fn cut_dump(dir: &std::path::Path, name: &str, lines: u32) -> std::path::PathBuf {
    let (path, bytes) = gzip_dump::gzip_dump(dir, name, lines);
    std::fs::write(&path, &bytes[..bytes.len() / 2]).expect("cut");
    path
}

/// A verify that failed is held in the state store; `check` judges the
/// catalog with it as the Backups tab does (`BackupVerifyFailed`,
/// critical), saying which backup and why, and exits 2. The failure is
/// the product's own: its verify action run on a cut dump, recorded in a
/// real store file where the cockpit keeps it.
#[test]
fn a_stored_failed_verify_is_critical_with_its_reason() {
    let sandbox = Sandbox::new();
    let full = sandbox.path().join("dumps/full");
    std::fs::create_dir_all(&full).expect("mkdir");
    let dump = cut_dump(&full, "db_c.sql.gz", 30_000);
    let quiet = sandbox.write("quiet.log", "");
    let config = format!(
        "[[backups]]\nname = \"mysql-dumps\"\nkind = \"dir\"\npath = \"{}\"\nrpo = \"26h\"\n\
         [backups.patterns]\nfull = \"full/*.sql.gz\"\n\n[[logs]]\nname = \"quiet\"\npath = \"{}\"\n",
        sandbox.path().join("dumps").display(),
        quiet.display()
    );

    // Before any verify: the catalog is fresh and nothing failed.
    let (code, out) = check(&sandbox, &config, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(out.lines().any(|l| l.starts_with("  OK") && l.contains("BackupVerifyFailed")), "{out}");

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("rt");
    let ending = rt.block_on(async {
        let store_path = sandbox.path().join("data/opsdeck/state.db");
        let store = opsdeck::store::Store::open(&store_path).await.expect("open the store");
        let plan = opsdeck::ops::backup::BackupPlan::VerifyFile {
            catalog: "mysql-dumps".into(),
            backup: "full/db_c.sql.gz".into(),
            path: dump.clone(),
            checksum: None,
        };
        let (lines, _keep) = tokio::sync::mpsc::channel(64);
        let cancel = tokio_util::sync::CancellationToken::new();
        let outcome = plan.execute(std::time::Duration::from_secs(60), &cancel, &lines, Some(&store)).await;
        store.close().await;
        outcome.ending
    });
    assert!(!ending.succeeded(), "the cut dump verified: {ending:?}");

    let (code, out) = check(&sandbox, &config, &[]);
    assert_eq!(code, 2, "{out}");
    let crit = out
        .lines()
        .find(|l| l.starts_with("  CRIT") && l.contains("mysql-dumps"))
        .unwrap_or_else(|| panic!("no CRIT line for mysql-dumps:\n{out}"));
    assert!(crit.contains("1 backup(s) failed verification"), "{out}");
    assert!(crit.contains("full/db_c.sql.gz failed verification: ") && crit.contains("gzip"), "{out}");
    let (_, json) = check(&sandbox, &config, &["--json"]);
    let report: serde_json::Value = serde_json::from_str(json.trim()).expect("json");
    let judged =
        report["lines"].as_array().expect("lines").iter().find(|l| l["rule"] == "BackupVerifyFailed");
    assert_eq!(judged.map(|l| l["status"].clone()), Some(json!("crit")), "{json}");
}

/// A state store that cannot be read leaves every verify unjudged: the run
/// says so (unknown, exit 3) rather than calling the catalog's verifies OK.
#[test]
fn an_unreadable_state_store_is_unknown_not_ok() {
    let sandbox = Sandbox::new();
    let full = sandbox.path().join("dumps/full");
    std::fs::create_dir_all(&full).expect("mkdir");
    std::fs::write(full.join("db.sql"), "INSERT INTO t VALUES (1);\n").expect("dump");
    // A directory where the store file should be: it exists, and no SQLite opens it.
    std::fs::create_dir_all(sandbox.path().join("data/opsdeck/state.db")).expect("mkdir");
    let quiet = sandbox.write("quiet.log", "");
    let config = format!(
        "[[backups]]\nname = \"dumps\"\nkind = \"dir\"\npath = \"{}\"\nrpo = \"26h\"\n\n\
         [[logs]]\nname = \"quiet\"\npath = \"{}\"\n",
        sandbox.path().join("dumps").display(),
        quiet.display()
    );
    let (code, out) = check(&sandbox, &config, &[]);
    assert_eq!(code, 3, "{out}");
    let line = out.lines().find(|l| l.contains("stored verifies")).unwrap_or_else(|| panic!("{out}"));
    assert!(line.starts_with("  UNKNOWN") && line.contains("cannot read the state store: "), "{out}");
    assert!(line.contains("state.db"), "the line names the store: {out}");
}
