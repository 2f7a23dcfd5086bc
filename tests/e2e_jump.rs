//! Jumping between tabs, end to end: the real binary in a PTY with a real
//! Prometheus scraping a real node_exporter and a dead target (the fleet),
//! a real Alertmanager holding an alert about the dead target, a Redis
//! member on the same host, and a log file. From the alert, `J 1` lands on
//! the dead node (its detail view says so), `J 3` on the member, `J 5` on
//! the logs mentioning that host scrolled to the alert's start; from the
//! node, `J 2` on its alerts.

mod backends;
mod common;

use backends::node_exporter::NodeExporter;
use backends::{Alertmanager, Prometheus};
use common::Sandbox;
use serde_json::json;

/// Log lines around `start`: 200 before it, the first one after it
/// (`MARK`), 200 after that, and lines about another host between them.
fn log_around(start: jiff::Timestamp, host: &str) -> String {
    let at = |secs: i64| start + jiff::SignedDuration::from_secs(secs);
    let mut out = String::new();
    for i in 0..200i64 {
        out.push_str(&format!("{} INFO old {i} peer {host}\n", at(-600 + i)));
        out.push_str(&format!("{} INFO unrelated {i} peer 10.9.9.9\n", at(-600 + i)));
    }
    out.push_str(&format!("{} ERROR MARK first line after the start, peer {host}\n", at(5)));
    for i in 0..200i64 {
        out.push_str(&format!("{} INFO after {i} peer {host}\n", at(10 + i)));
    }
    out
}

#[test]
fn an_alert_jumps_to_its_node_member_and_logs_and_a_node_back_to_its_alerts() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
    let exporter = rt.block_on(NodeExporter::start());
    let closed = backends::free_port();
    let dead = format!("127.0.0.1:{closed}");
    let prom = rt.block_on(Prometheus::start_scraping(
        "node",
        &[format!("127.0.0.1:{}", exporter.port()), dead.clone()],
    ));
    let am = rt.block_on(Alertmanager::start());
    let start = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1800);
    rt.block_on(am.post_alerts(&json!([{
        "labels": {"alertname": "NodeUnreachable", "instance": dead, "severity": "critical"},
        "annotations": {"summary": "node exporter on 127.0.0.1 does not answer"},
        "startsAt": start.to_string(),
    }])));
    let redis_port = backends::free_port();

    let sandbox = Sandbox::new();
    let log = sandbox.write("app.log", &log_around(start, "127.0.0.1"));
    let cfg = sandbox.write(
        "jump.toml",
        &format!(
            "[[prometheus]]\nname = \"prom\"\nurl = \"{}\"\ninterval = \"1s\"\n\n\
             [fleet]\ninterval = \"1s\"\n\n\
             [[alertmanager]]\nname = \"am\"\nurl = \"{}\"\ninterval = \"1s\"\n\n\
             [[clusters]]\nname = \"cache\"\nkind = \"redis\"\nmembers = [\"127.0.0.1:{redis_port}\"]\ntimeout = \"1s\"\n\n\
             [[logs]]\nname = \"app\"\npath = \"{}\"\n",
            prom.url(),
            am.url(),
            log.display()
        ),
    );
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", cfg.to_str().expect("utf-8")], &[], 40, 160);
    s.wait_for("the fleet with the dead target down", |t| {
        t.contains("Fleet 2 nodes") && t.contains("1 down")
    });

    // The alert, selected (group header, then the alert).
    s.send("2");
    s.wait_for_text("NodeUnreachable");
    s.send("jj");
    s.wait_for("the alert's details", |t| t.contains(&format!("instance {dead}")));
    s.send("J");
    let menu = s.wait_for_text("Jump from alert NodeUnreachable");
    assert!(menu.contains(&format!("node {dead}")), "{menu}");
    assert!(menu.contains(&format!("member 127.0.0.1:{redis_port} of cache")), "{menu}");
    assert!(menu.contains("logs mentioning 127.0.0.1 from "), "{menu}");

    // 1: the dead node, selected; Enter opens it.
    s.send("1");
    s.wait_for("the fleet focused", |t| t.contains("enter open"));
    s.send("\r");
    let detail = s.wait_for("the dead node's detail", |t| t.contains(&format!("node {dead} from prom")));
    assert!(detail.contains("DOWN: ") && detail.contains("Disk (fullest)"), "{detail}");
    assert!(detail.contains("connection refused"), "Prometheus's reason for the target:\n{detail}");
    s.send("\x1b");
    s.wait_for_text("Fleet 2 nodes");

    // From the node back to its alerts: the Alerts tab filtered by its host.
    s.send("J");
    s.wait_for_text("alerts matching 127.0.0.1");
    s.send("2");
    let alerts = s.wait_for("the alerts filtered by the node's host", |t| {
        t.contains("127.0.0.1") && t.contains("NodeUnreachable")
    });
    assert!(alerts.contains("127.0.0.1"), "{alerts}");

    // 3: the member on that host.
    s.send("jj");
    s.wait_for("the alert selected again", |t| t.contains(&format!("instance {dead}")));
    s.send("J");
    s.wait_for_text("Jump from alert");
    s.send("3");
    s.wait_for("the member's details", |t| {
        t.contains("Replication") && t.contains(&format!("127.0.0.1:{redis_port}"))
    });

    // 5: the logs mentioning the host, at the alert's start.
    s.send("2");
    s.send("J");
    s.wait_for_text("Jump from alert");
    s.send("5");
    let logs =
        s.wait_for("the logs around the alert's start", |t| t.contains("MARK first line after the start"));
    assert!(!logs.contains("unrelated"), "filtered to the host:\n{logs}");
    assert!(logs.contains("old 199"), "the lines just before the start show above it:\n{logs}");
    assert!(!logs.contains("after 199"), "scrolled to the start, not the end:\n{logs}");
}
