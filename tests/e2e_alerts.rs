//! The Alerts tab end to end: the real binary in a PTY against two real
//! Alertmanagers. Alerts held by both show once; a silence made through the
//! guarded pipeline exists in Alertmanager with the form's matchers and the
//! alert turns quiet; expiring it from the silences list works; an ack is
//! local and quiet; a server that goes away leaves its last data on screen
//! with its age; the timeline is exported by `opsdeck alerts`.

mod backends;
mod common;

use backends::Alertmanager;
use common::{Sandbox, Session};
use serde_json::json;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

fn escape(s: &mut Session, gone: &str) {
    s.send("\x1b");
    s.wait_for(&format!("{gone:?} to leave the screen"), |t| !t.contains(gone));
}

#[test]
fn silence_expire_ack_and_a_server_going_away() {
    let rt = runtime();
    let (am1, am2) = rt.block_on(async { (Alertmanager::start().await, Alertmanager::start().await) });
    let alerts = json!([
        {"labels": {"alertname": "DiskFull", "instance": "db1:9100", "severity": "紧急"},
         "annotations": {"summary": "/var/lib/mysql at 97% on db1"}},
        {"labels": {"alertname": "DiskFull", "instance": "db2:9100", "severity": "critical"},
         "annotations": {"summary": "/ at 93% on db2"}},
        {"labels": {"alertname": "ReplicationLag", "instance": "db3:3306", "severity": "P2"},
         "annotations": {"summary": "replica db3 is 45 s behind"}},
    ]);
    rt.block_on(async {
        am1.post_alerts(&alerts).await;
        am2.post_alerts(&alerts).await;
    });

    let sandbox = Sandbox::new();
    // Local rules off: this test is about the Alertmanagers' alerts.
    let config = format!(
        "[[alertmanager]]\nname = \"am1\"\nurl = \"{}\"\ninterval = \"1s\"\n\n\
         [[alertmanager]]\nname = \"am2\"\nurl = \"{}\"\ninterval = \"1s\"\n\n\
         [[rules]]\nname = \"HighCpu\"\nmetric = \"cpu\"\nthreshold = 80\nenabled = false\n\n\
         [[rules]]\nname = \"HighMemory\"\nmetric = \"memory_percent\"\nthreshold = 85\nenabled = false\n\n\
         [[rules]]\nname = \"DiskFull\"\nmetric = \"disk_percent\"\nthreshold = 90\nseverity = \"critical\"\nenabled = false\n",
        am1.url(),
        am2.url()
    );
    let cfg = sandbox.write("alerts.toml", &config);
    let cfg = cfg.to_str().expect("utf-8 path").to_owned();
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", &cfg], &[], 40, 160);
    s.wait_for("both Alertmanagers healthy and the store open", |t| {
        t.contains("am1 ✓") && t.contains("am2 ✓") && t.contains("store ✓")
    });
    s.send("2");
    // Six alerts held, three shown: deduplicated by fingerprint; 紧急 and P2 mapped.
    let screen = s.wait_for("the queue", |t| t.contains("2 critical") && t.contains("1 warning"));
    assert_eq!(screen.matches("db1:9100").count(), 1, "{screen}");

    // Select db1's alert (group header, then the first alert: db1 started first).
    s.send("jj");
    let details = s.wait_for("the details pane, seen by both", |t| {
        t.lines().any(|l| l.contains("seen by") && l.contains("am1") && l.contains("am2"))
    });
    assert!(details.contains("severity 紧急"), "{details}");
    let target = if details.contains("instance db1:9100") { "db1:9100" } else { "db2:9100" };
    s.send("A");
    s.wait_for("the ARMED countdown", |t| t.contains(" ARMED 1"));

    // Silence it through the pipeline: menu, form, comment, Enter.
    s.send(":silence\r");
    let dialog = s.wait_for("the silence dialog", |t| t.contains("would silence 1 alert(s)"));
    assert!(dialog.contains("POST ") && dialog.contains("/api/v2/silences"), "{dialog}");
    s.send("\x1b[C"); // Right: 1h → 4h
    s.wait_for("the 4h preset", |t| t.contains("duration: 4h"));
    s.send("\t\te2e drill: disk swap\r");
    s.wait_for("the silence to be created", |t| t.contains("created silence"));
    let ids = rt.block_on(am1.silence_ids_with_comment("e2e drill: disk swap"));
    assert_eq!(ids.len(), 1, "exactly one silence in am1");
    let silence = rt.block_on(am1.get_json(&format!("/api/v2/silence/{}", ids[0])));
    let matchers = silence["matchers"].as_array().expect("matchers");
    assert!(matchers.iter().any(|m| m["name"] == "instance" && m["value"] == target), "{silence:#}");
    let (starts, ends) =
        (silence["startsAt"].as_str().unwrap_or(""), silence["endsAt"].as_str().unwrap_or(""));
    let span =
        ends.parse::<jiff::Timestamp>().unwrap().duration_since(starts.parse::<jiff::Timestamp>().unwrap());
    assert!((span.as_secs() - 4 * 3600).abs() < 60, "a 4h silence: {starts} .. {ends}");
    escape(&mut s, "Esc closes");
    s.wait_for("the alert to turn quiet", |t| t.contains("1 quiet (hidden)") && t.contains("1 critical"));

    // Expire it from the silences list.
    s.send(":silences\r");
    s.wait_for("the silences list", |t| t.contains("e2e drill: disk swap"));
    s.send("x");
    s.wait_for("the expire dialog", |t| t.contains("expire_silence") && t.contains("DELETE "));
    s.send("y");
    s.wait_for("the silence to expire", |t| t.contains("expired silence"));
    let state = rt.block_on(am1.get_json(&format!("/api/v2/silence/{}", ids[0])));
    assert_eq!(state["status"]["state"], "expired");
    escape(&mut s, "Esc closes");
    s.wait_for("the alert firing again", |t| t.contains("2 critical") && t.contains("0 quiet"));

    // Ack: local, needs no arming beyond the pipeline's, quiet until it resolves.
    s.send(":ack\r");
    s.wait_for("the ack dialog", |t| t.contains("ack — Acknowledge"));
    s.send("looking at it\r");
    s.wait_for("the ack to be recorded", |t| t.contains("acked "));
    escape(&mut s, "Esc closes");
    s.wait_for("the alert acked", |t| t.contains("1 quiet (hidden)"));

    // One Alertmanager goes away: its data stays, with its age.
    drop(am2);
    s.wait_for("am2 failing with the age of its data", |t| t.contains("am2 ✗ data"));
    let screen = s.wait_for("the queue still shown", |t| t.contains("ReplicationLag"));
    assert!(screen.contains("am1 ✓"), "{screen}");
    s.send("q");
    assert_eq!(s.wait_exit(), 0);

    // The incident timeline from the store.
    let out = sandbox.command(["alerts", "--since", "1h", "--json"]).output().expect("opsdeck alerts");
    let text = String::from_utf8_lossy(&out.stdout);
    let events: Vec<serde_json::Value> = text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect();
    let to = |state: &str| events.iter().any(|e| e["to"] == state && e["name"] == "DiskFull");
    assert!(to("firing") && to("silenced") && to("acked"), "{text}");
    let md = sandbox.command(["alerts", "--markdown"]).output().expect("opsdeck alerts --markdown");
    assert!(String::from_utf8_lossy(&md.stdout).contains("| DiskFull | critical | firing → silenced |"));
    drop(am1);
}

/// The only Alertmanager stops: the tab must not call that an all-clear.
/// Before it stops, "Nothing is wrong" is true and shown; after, the badge
/// and the body say the alerts are unknown, naming it and how long it has
/// been down, and that age grows.
#[test]
fn no_all_clear_while_the_only_alertmanager_is_down() {
    let rt = runtime();
    let am = rt.block_on(Alertmanager::start());
    let sandbox = Sandbox::new();
    let config = format!(
        "[[alertmanager]]\nname = \"am\"\nurl = \"{}\"\ninterval = \"1s\"\ntimeout = \"1s\"\n\n\
         [[rules]]\nname = \"HighCpu\"\nmetric = \"cpu\"\nthreshold = 80\nenabled = false\n\n\
         [[rules]]\nname = \"HighMemory\"\nmetric = \"memory_percent\"\nthreshold = 85\nenabled = false\n\n\
         [[rules]]\nname = \"DiskFull\"\nmetric = \"disk_percent\"\nthreshold = 90\nseverity = \"critical\"\nenabled = false\n",
        am.url()
    );
    let cfg = sandbox.write("blind.toml", &config);
    let cfg = cfg.to_str().expect("utf-8 path").to_owned();
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", &cfg], &[], 30, 120);
    s.send("2");
    let fine = s.wait_for("the all-clear while am answers", |t| {
        t.contains("am ✓") && t.contains("Nothing is wrong right now")
    });
    assert!(fine.contains("2 Alerts ✓"), "{fine}");

    drop(am);
    let blind = s.wait_for("the alerts reported unknown", |t| t.contains("Alerts unknown: am down"));
    assert!(!blind.contains("Nothing is wrong"), "an all-clear while blind:\n{blind}");
    assert!(blind.contains("2 Alerts ?") && !blind.contains("2 Alerts ✓"), "{blind}");
    assert!(blind.contains("connection refused"), "the reason is named:\n{blind}");
    // The age grows while it stays down: "down 3s", not a frozen screen.
    s.wait_for("the outage's age to grow", |t| {
        t.lines().any(|l| {
            l.split("am down ").nth(1).and_then(|r| r.split('s').next()).and_then(|n| n.parse::<u32>().ok())
                >= Some(3)
        })
    });
    s.send("q");
    assert_eq!(s.wait_exit(), 0);
}

/// More alerts in Alertmanager than the history holds at once (10,000): the
/// tab counts what was not recorded, and `opsdeck alerts` shows the gap
/// where it happened instead of a silently shorter history.
#[test]
fn a_history_over_its_cap_says_so_on_the_tab_and_in_the_export() {
    const ALERTS: usize = 10_100;
    let rt = runtime();
    let am = rt.block_on(Alertmanager::start());
    let alerts: Vec<_> = (0..ALERTS)
        .map(|i| json!({"labels": {"alertname": "Flood", "instance": format!("n{i:05}:9100"), "severity": "warning"}}))
        .collect();
    rt.block_on(am.post_alerts(&json!(alerts)));
    let sandbox = Sandbox::new();
    let config = format!(
        "[[alertmanager]]\nname = \"am\"\nurl = \"{}\"\ninterval = \"1s\"\n\n\
         [[rules]]\nname = \"HighCpu\"\nmetric = \"cpu\"\nthreshold = 80\nenabled = false\n\n\
         [[rules]]\nname = \"HighMemory\"\nmetric = \"memory_percent\"\nthreshold = 85\nenabled = false\n\n\
         [[rules]]\nname = \"DiskFull\"\nmetric = \"disk_percent\"\nthreshold = 90\nseverity = \"critical\"\nenabled = false\n",
        am.url()
    );
    let cfg = sandbox.write("flood.toml", &config);
    let cfg = cfg.to_str().expect("utf-8 path").to_owned();
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", &cfg], &[], 30, 160);
    s.send("2");
    let screen = s.wait_for("the flood and the count of what was not recorded", |t| {
        t.contains("10100 warning") && t.contains("history: 100 changes not recorded")
    });
    assert!(screen.contains("store ✓"), "{screen}");
    // The store writes on its own task: read the export (beside the running cockpit) until it has landed.
    let export = || {
        let out = sandbox.command(["alerts", "--since", "1h", "--json"]).output().expect("opsdeck alerts");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines().filter_map(|l| serde_json::from_str(l).ok()).collect::<Vec<serde_json::Value>>()
    };
    s.wait_for_cond("the history written", || export().len() > 10_000);
    s.send("q");
    assert_eq!(s.wait_exit(), 0);

    let events = export();
    let gaps: Vec<&serde_json::Value> = events.iter().filter(|e| e["to"] == "not_recorded").collect();
    assert_eq!(events.len() - gaps.len(), 10_000, "the cap held");
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert_eq!(gaps[0]["labels"]["dropped"], "100");
    let md = sandbox.command(["alerts", "--markdown"]).output().expect("opsdeck alerts --markdown");
    let md = String::from_utf8_lossy(&md.stdout);
    assert!(md.contains("**history gap**") && md.contains("100 alert state changes were not recorded"));
    drop(am);
}
