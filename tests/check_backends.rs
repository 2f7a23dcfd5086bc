//! `opsdeck check` against the other tabs' real backends: a Redis primary
//! and replica (healthy, a replica whose link is down, a primary that is
//! gone), a directory backup catalog against its RPO (fresh, stale, twice
//! stale, missing), a real Prometheus scraping a real node_exporter and a
//! closed port (the fleet's resources lines), and log files with error lines
//! around the `LogErrors` threshold. Each run is the real binary; its exit
//! code and its lines are checked.
//!
//! Every config gets a quiet `[[logs]]` source unless it has its own, so
//! this machine's syslog or journal never decides a verdict here, and the
//! resource rules are off (`QUIET_NODE`) for the same reason.

mod backends;
mod common;

use std::path::Path;
use std::process::Output;
use std::time::{Duration, SystemTime};

use backends::node_exporter::NodeExporter;
use backends::redis::{PASSWORD, RedisPair, RedisServer, cli};
use backends::{Prometheus, READY_DEADLINE, free_port, wait_for};
use common::Sandbox;
use serde_json::Value;

/// The resource rules off: this node's disk or CPU must not decide the verdict here.
const QUIET_NODE: &str = "[[rules]]\nname = \"HighCpu\"\nenabled = false\n\n\
    [[rules]]\nname = \"HighMemory\"\nenabled = false\n\n\
    [[rules]]\nname = \"DiskFull\"\nenabled = false\n";

/// The environment variable the Redis clusters read their password from.
const PASSWORD_ENV: &str = "OD_CHECK_REDIS_PASSWORD";

/// Run `opsdeck check` with `config` (plus `QUIET_NODE`, and a quiet log
/// source when the config has none) and `format`: its exit code and stdout.
fn check(sandbox: &Sandbox, config: &str, format: &[&str]) -> (i32, String) {
    let mut config = format!("{config}\n{QUIET_NODE}");
    if !config.contains("[[logs]]") {
        let quiet = sandbox.write("quiet.log", "");
        config.push_str(&format!("\n[[logs]]\nname = \"quiet\"\npath = \"{}\"\n", quiet.display()));
    }
    let path = sandbox.write("check.toml", &config);
    let mut args = vec!["--config", path.to_str().expect("utf-8"), "check"];
    args.extend(format);
    let Output { status, stdout, stderr } =
        sandbox.command(args).env(PASSWORD_ENV, PASSWORD).output().expect("run opsdeck check");
    let out = String::from_utf8_lossy(&stdout).into_owned();
    assert!(stderr.is_empty(), "stderr: {}", String::from_utf8_lossy(&stderr));
    (status.code().expect("an exit code"), out)
}

/// `check --json`: the exit code, the report's lines, and the raw output for messages.
fn check_json(sandbox: &Sandbox, config: &str) -> (i32, Vec<Value>, String) {
    let (code, out) = check(sandbox, config, &["--json"]);
    let report: Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(report["exit_code"].as_i64(), Some(i64::from(code)), "{out}");
    let lines = report["lines"].as_array().expect("lines").clone();
    (code, lines, out)
}

/// The JSON lines of `area` about `subject`.
fn lines_about<'a>(lines: &'a [Value], area: &str, subject: &str) -> Vec<&'a Value> {
    lines.iter().filter(|l| l["area"] == area && l["subject"] == subject).collect()
}

/// The one JSON line of `area` about `subject` judged by `rule`.
#[track_caller]
fn judged<'a>(lines: &'a [Value], area: &str, subject: &str, rule: &str, out: &str) -> &'a Value {
    let found: Vec<&Value> =
        lines_about(lines, area, subject).into_iter().filter(|l| l["rule"] == rule).collect();
    assert_eq!(found.len(), 1, "one {area} line for {subject:?} by {rule}:\n{out}");
    found[0]
}

/// A line's status and detail.
fn status_detail(l: &Value) -> (&str, &str) {
    (l["status"].as_str().unwrap_or(""), l["detail"].as_str().unwrap_or(""))
}

/// The text line whose subject (first word after the status) is `subject`.
fn line_of<'a>(out: &'a str, subject: &str) -> &'a str {
    out.lines().find(|l| l.split_whitespace().nth(1) == Some(subject)).unwrap_or("")
}

fn redis_cluster(members: &[u16], extra: &str) -> String {
    let members: Vec<String> = members.iter().map(|p| format!("\"127.0.0.1:{p}\"")).collect();
    format!(
        "[[clusters]]\nname = \"cache\"\nkind = \"redis\"\nmembers = [{}]\n\
         password_env = \"{PASSWORD_ENV}\"\ntimeout = \"1500ms\"\n{extra}",
        members.join(", ")
    )
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt")
}

/// A replica's `master_link_status` as INFO reports it.
fn link_is(port: u16, state: &str) -> bool {
    cli(port, &["INFO", "replication"]).contains(&format!("master_link_status:{state}"))
}

/// A primary and its replica: each member has its lines, OK while the link
/// is up; a replica whose link is down is critical by `ReplicationStopped`;
/// a primary that is gone is critical by `ReplicationMemberDown`.
#[test]
fn redis_replication_is_ok_then_critical_when_the_link_or_the_primary_goes() {
    let rt = runtime();
    let RedisPair { primary, replica } = rt.block_on(RedisPair::start());
    let (p, r) = (primary.port, replica.port);
    let sandbox = Sandbox::new();
    let config = redis_cluster(&[p, r], "");
    let (primary_subject, replica_subject) = (format!("127.0.0.1:{p} cache"), format!("127.0.0.1:{r} cache"));

    // Healthy: both answer, the replica's link is up; nothing else is judged.
    let (code, lines, out) = check_json(&sandbox, &config);
    assert_eq!(code, 0, "{out}");
    let replication: Vec<&Value> = lines.iter().filter(|l| l["area"] == "replication").collect();
    assert_eq!(
        replication.len(),
        5,
        "member down ×2, stopped ×1 (the replica's link), lag ×1, one writable member ×1:\n{out}"
    );
    assert!(replication.iter().all(|l| l["status"] == "ok"), "{out}");
    // The replica's lag, against the cluster's lag_warning (5 s by default).
    let (status, detail) =
        status_detail(judged(&lines, "replication", &replica_subject, "ReplicationLag", &out));
    assert_eq!(status, "ok", "{out}");
    assert!(detail.ends_with("s (alerts > 5s, ReplicationLag)"), "{out}");
    for (subject, rule) in [
        (&primary_subject, "ReplicationMemberDown"),
        (&replica_subject, "ReplicationMemberDown"),
        (&replica_subject, "ReplicationStopped"),
    ] {
        let (status, detail) = status_detail(judged(&lines, "replication", subject, rule, &out));
        assert_eq!(status, "ok", "{out}");
        assert_eq!(detail, format!("0 (alerts > 0.5, {rule})"), "{out}");
    }
    // A primary has no upstream link to be stopped.
    assert!(
        lines_about(&lines, "replication", &primary_subject)
            .iter()
            .all(|l| l["rule"] != "ReplicationStopped")
    );

    // The replica re-pointed at a closed port: its link is down, critical.
    let closed = free_port();
    assert_eq!(cli(r, &["REPLICAOF", "127.0.0.1", &closed.to_string()]), "OK");
    rt.block_on(wait_for("the replica's link to go down", READY_DEADLINE, || async {
        link_is(r, "down").then_some(())
    }));
    let (code, lines, out) = check_json(&sandbox, &config);
    assert_eq!(code, 2, "{out}");
    let stopped = judged(&lines, "replication", &replica_subject, "ReplicationStopped", &out);
    assert_eq!(
        status_detail(stopped),
        ("crit", format!("Replication stopped on 127.0.0.1:{r} (cache)").as_str())
    );
    // Both still answer: neither is down.
    for subject in [&primary_subject, &replica_subject] {
        let down = judged(&lines, "replication", subject, "ReplicationMemberDown", &out);
        assert_eq!(down["status"], "ok", "{out}");
    }
    assert_eq!(lines[0]["status"], "crit", "the worst line comes first within its area:\n{out}");

    // The primary gone: it does not answer, critical at once (the rule would wait 10 s).
    drop(primary);
    let (code, lines, out) = check_json(&sandbox, &config);
    assert_eq!(code, 2, "{out}");
    let down = judged(&lines, "replication", &primary_subject, "ReplicationMemberDown", &out);
    // The poller's reason is in the line.
    let (status, detail) = status_detail(down);
    assert_eq!(status, "crit", "{out}");
    assert!(
        detail.starts_with(&format!("127.0.0.1:{p} of cache does not answer: "))
            && detail.contains("refused")
            && detail.ends_with(" (now; the rule waits 10s)"),
        "{out}"
    );
    let (code, text) = check(&sandbox, &config, &[]);
    assert_eq!(code, 2, "{text}");
    assert!(text.contains(": CRITICAL (2 critical, 0 warning, 0 unknown, 3 ok)"), "{text}");
    drop(replica);
}

/// A `[[backups]] kind = "dir"` catalog against a one-hour RPO: fresh is
/// OK, 1.5× the RPO a warning, 2.5× critical; a missing directory is an
/// unreadable catalog, judged by `BackupCatalogUnreadable` (a warning).
#[test]
fn a_directory_catalog_is_judged_against_its_rpo() {
    let sandbox = Sandbox::new();
    let root = sandbox.path().join("backups");
    std::fs::create_dir_all(&root).expect("mkdir");
    let dump = root.join("orders.sql");
    std::fs::write(&dump, "INSERT INTO orders VALUES (1);\n").expect("write dump");
    let aged = |age: Duration| {
        let f = std::fs::File::options().write(true).open(&dump).expect("open dump");
        f.set_modified(SystemTime::now() - age).expect("set mtime");
    };
    let catalog = |name: &str, path: &Path| {
        format!(
            "[[backups]]\nname = \"{name}\"\nkind = \"dir\"\npath = \"{}\"\nrpo = \"1h\"\n",
            path.display()
        )
    };
    let config = catalog("nightly", &root);

    // Fresh: every line of the catalog OK, the staleness one against its rule.
    let (code, lines, out) = check_json(&sandbox, &config);
    assert_eq!(code, 0, "{out}");
    let nightly = lines_about(&lines, "backups", "nightly");
    assert!(nightly.len() >= 2 && nightly.iter().all(|l| l["status"] == "ok"), "{out}");
    let stale = judged(&lines, "backups", "nightly", "BackupStale", &out);
    assert_eq!(status_detail(stale), ("ok", "0 (alerts > 1, BackupStale)"), "{out}");

    // Older than the RPO: a warning, exit 1.
    aged(Duration::from_secs(90 * 60));
    let (code, lines, out) = check_json(&sandbox, &config);
    assert_eq!(code, 1, "{out}");
    let stale = judged(&lines, "backups", "nightly", "BackupStale", &out);
    assert_eq!(status_detail(stale), ("warn", "Newest backup of nightly is 1.5× its RPO old"), "{out}");

    // Older than twice the RPO: critical, exit 2; one line, by the worse rule.
    aged(Duration::from_secs(150 * 60));
    let (code, lines, out) = check_json(&sandbox, &config);
    assert_eq!(code, 2, "{out}");
    let stale = judged(&lines, "backups", "nightly", "BackupStaleCritical", &out);
    assert_eq!(status_detail(stale), ("crit", "Newest backup of nightly is 2.5× its RPO old"), "{out}");
    assert!(lines_about(&lines, "backups", "nightly").iter().all(|l| l["rule"] != "BackupStale"), "{out}");
    let (_, text) = check(&sandbox, &config, &[]);
    assert!(line_of(&text, "nightly").starts_with("  CRIT    nightly  Newest backup"), "{text}");

    // A catalog whose directory does not exist could not be checked:
    // unknown, exit 3, saying why; no RPO line.
    let (code, lines, out) = check_json(&sandbox, &catalog("offsite", &sandbox.path().join("no-such-dir")));
    assert_eq!(code, 3, "{out}");
    let offsite = lines_about(&lines, "backups", "offsite");
    assert_eq!(offsite[0]["status"], "unknown", "{out}");
    let detail = offsite[0]["detail"].as_str().unwrap_or_default();
    assert!(detail.starts_with("cannot read: ") && detail.contains("no-such-dir"), "{out}");
    assert_eq!(lines_about(&lines, "backups", "offsite").len(), 1, "{out}");
}

/// The Prometheus API's instant query `q`, its result vector (empty on any failure).
async fn query(base: &str, q: &str) -> Vec<Value> {
    let resp = reqwest::Client::new().get(format!("{base}/api/v1/query")).query(&[("query", q)]).send().await;
    let Ok(resp) = resp else { return Vec::new() };
    let body: Value = resp.json().await.unwrap_or_default();
    body["data"]["result"].as_array().cloned().unwrap_or_default()
}

/// `[fleet]` from a real Prometheus scraping a live node_exporter and a
/// closed port: the live node's line has its figures and follows this
/// node's `[metrics.thresholds]`; the dead one is critical, down. A fleet
/// Prometheus that does not answer is unknown.
#[test]
fn fleet_nodes_from_prometheus_are_judged_and_a_dead_target_is_critical() {
    let rt = runtime();
    let exporter = rt.block_on(NodeExporter::start());
    let closed = free_port();
    let (live, dead) = (format!("127.0.0.1:{}", exporter.port()), format!("127.0.0.1:{closed}"));
    let prom = rt.block_on(Prometheus::start_scraping("node", &[live.clone(), dead.clone()]));
    // Both targets scraped (one up, one down), and two scrapes of the live
    // one so its CPU rate exists.
    rt.block_on(wait_for("Prometheus to scrape both targets twice", Duration::from_secs(30), || async {
        let up = query(prom.url(), "up{job=\"node\"}").await;
        let value = |instance: &str| {
            up.iter().find(|s| s["metric"]["instance"] == instance).map(|s| s["value"][1].clone())
        };
        let both = value(&live) == Some("1".into()) && value(&dead) == Some("0".into());
        let cpu = query(prom.url(), "rate(node_cpu_seconds_total{mode=\"idle\"}[2m])").await;
        (both && !cpu.is_empty()).then_some(())
    }));
    let sandbox = Sandbox::new();
    let config = |thresholds: &str| {
        format!(
            "[[prometheus]]\nname = \"prom\"\nurl = \"{}\"\ntimeout = \"3s\"\n\n[fleet]\nprometheus = [\"prom\"]\n\n\
             [metrics.thresholds]\n{thresholds}\n",
            prom.url()
        )
    };
    let never = "cpu = { warning = 100, critical = 100 }\nmemory = { warning = 100, critical = 100 }\n\
                 disk = { warning = 100, critical = 100 }";

    // Thresholds nothing can pass: the live node is OK with every figure; the dead one critical.
    let (code, out) = check(&sandbox, &config(never), &[]);
    assert_eq!(code, 2, "{out}");
    let live_line = line_of(&out, &live);
    assert!(live_line.starts_with("  OK"), "{out}");
    for figure in ["cpu ", "memory ", "disk ", "load ", "(prom)"] {
        assert!(live_line.contains(figure), "{figure:?} in {live_line:?}:\n{out}");
    }
    let dead_line = line_of(&out, &dead);
    assert!(dead_line.starts_with("  CRIT") && dead_line.contains("down (prom)"), "{out}");
    // Why, as Prometheus's targets API says (its lastError for the target).
    assert!(dead_line.contains("connection refused"), "{out}");
    assert!(line_of(&out, "prom").starts_with("  OK") && out.contains("answering: 0 firing"), "{out}");
    assert!(out.contains(": CRITICAL (1 critical, 0 warning, 0 unknown, "), "{out}");

    // Memory warns above 0 %: the live node is a warning by this node's thresholds.
    let memory_warns = never.replace("memory = { warning = 100", "memory = { warning = 0");
    let (code, out) = check(&sandbox, &config(&memory_warns), &[]);
    assert_eq!(code, 2, "the dead node is still critical:\n{out}");
    assert!(line_of(&out, &live).starts_with("  WARN"), "{out}");
    assert!(line_of(&out, &dead).starts_with("  CRIT"), "{out}");

    // A fleet Prometheus that does not answer: unknown, exit 3.
    let gone = format!(
        "[[prometheus]]\nname = \"gone\"\nurl = \"http://127.0.0.1:{closed}\"\ntimeout = \"1s\"\n\n[fleet]\n"
    );
    let (code, out) = check(&sandbox, &gone, &[]);
    assert_eq!(code, 3, "{out}");
    assert!(line_of(&out, "fleet").starts_with("  UNKNOWN") && out.contains("refused"), "{out}");
    drop(prom);
}

/// `n` log lines at `at`, each `LEVEL message i`.
fn log_lines(at: jiff::Timestamp, level: &str, n: usize) -> String {
    let stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ");
    (0..n).map(|i| format!("{stamp} {level} request {i}: upstream timed out\n")).collect()
}

/// Error lines of the last 15 minutes against `LogErrors` (10 a minute):
/// 151 are a warning, 150 are not; INFO lines and hour-old errors count nothing.
#[test]
fn log_sources_warn_past_the_error_rate_and_count_only_recent_error_lines() {
    let sandbox = Sandbox::new();
    let now = jiff::Timestamp::now();
    let hour_ago = now - jiff::SignedDuration::from_hours(1);
    let source = |name: &str, contents: String| {
        let path = sandbox.write(&format!("{name}.log"), &contents);
        format!("[[logs]]\nname = \"{name}\"\npath = \"{}\"\n", path.display())
    };
    let app = source("app", log_lines(now, "ERROR", 151));
    let edge = source("edge", log_lines(now, "ERROR", 150));
    let web = source("web", log_lines(now, "INFO", 300));
    let old = source("old", log_lines(hour_ago, "ERROR", 300));

    let (code, out) = check(&sandbox, &format!("{app}{edge}{web}{old}"), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        line_of(&out, "app").starts_with("  WARN    app   151 error lines in the last 15 min ("),
        "{out}"
    );
    assert!(line_of(&out, "edge").starts_with("  OK      edge  150 error lines"), "{out}");
    assert!(line_of(&out, "web").starts_with("  OK      web   0 error lines"), "{out}");
    assert!(line_of(&out, "old").starts_with("  OK      old   0 error lines"), "{out}");

    let (code, out) = check(&sandbox, &format!("{web}{old}"), &["--markdown"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("— **OK**") && out.contains("| OK | web | 0 error lines in the last 15 min"),
        "{out}"
    );
}

/// `check` waits for each log source's backlog to be read: a log that takes
/// longer to read than the node's second sample (≈ 0.2 s) is still counted.
#[test]
fn a_slow_to_read_log_is_counted_before_the_verdict() {
    let sandbox = Sandbox::new();
    let stamp = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
    let pad = "x".repeat(15_000);
    let lines: String = (0..1000).map(|i| format!("{stamp} ERROR request {i}: {pad}\n")).collect();
    let path = sandbox.write("big.log", &lines);
    let config = format!("[[logs]]\nname = \"big\"\npath = \"{}\"\n", path.display());
    let (code, out) = check(&sandbox, &config, &[]);
    assert!(line_of(&out, "big").starts_with("  WARN    big  1000 error lines"), "{out}");
    assert_eq!(code, 1, "{out}");
}

/// The per-cluster `ReplicationLag` rules (`lag_warning` / `lag_critical`)
/// are judged: a replica seconds behind past `lag_critical` is critical.
#[test]
fn a_replica_lagging_past_lag_critical_is_critical() {
    let rt = runtime();
    let primary = rt.block_on(RedisServer::start(""));
    // A long repl-timeout: the stopped primary's link stays up, its lag grows.
    let replica =
        rt.block_on(RedisServer::start(&format!("replicaof 127.0.0.1 {}\nrepl-timeout 60\n", primary.port)));
    let r = replica.port;
    rt.block_on(wait_for("the link to come up", READY_DEADLINE, || async { link_is(r, "up").then_some(()) }));
    let _paused = primary.pause();
    rt.block_on(wait_for("the replica to hear nothing for 4 s", READY_DEADLINE, || async {
        let info = cli(r, &["INFO", "replication"]);
        let silent = info.lines().find_map(|l| l.strip_prefix("master_last_io_seconds_ago:"))?;
        (silent.trim().parse::<i64>().ok()? >= 4).then_some(())
    }));
    let sandbox = Sandbox::new();
    let config = redis_cluster(&[r], "lag_warning = \"1s\"\nlag_critical = \"2s\"\n");
    let (code, out) = check(&sandbox, &config, &[]);
    assert!(out.contains("lags"), "a lag line for the replica:\n{out}");
    assert_eq!(code, 2, "{out}");
}
