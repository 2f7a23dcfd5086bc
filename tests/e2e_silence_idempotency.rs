//! A silence made through the real binary's guarded pipeline, with a
//! delaying proxy between opsdeck and a real Alertmanager that holds the
//! POST on its way (1.5 s) and its answer (6 s), both longer than opsdeck's
//! 1 s timeout: the run view reports one silence id, and Alertmanager holds
//! exactly that one silence, made by exactly one POST.

mod backends;
mod common;

use std::time::Duration;

use backends::Alertmanager;
use backends::delay_proxy::{Delay, DelayProxy};
use common::Sandbox;
use serde_json::json;

#[test]
fn a_slow_alertmanager_gets_one_post_and_one_silence() {
    // Worker threads: the proxy must keep relaying while this thread waits on the screen.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let am = rt.block_on(Alertmanager::start());
    let alert =
        json!([{"labels": {"alertname": "DiskFull", "instance": "db1:9100", "severity": "critical"}}]);
    rt.block_on(am.post_alerts(&alert));
    let delay = Delay {
        method: "POST",
        path_prefix: "/api/v2/silences",
        before_forward: Duration::from_millis(1500),
        before_answer: Duration::from_secs(6),
    };
    let proxy = rt.block_on(DelayProxy::start(am.url(), delay));

    let sandbox = Sandbox::new();
    let config = format!(
        "[[alertmanager]]\nname = \"am\"\nurl = \"{}\"\ninterval = \"1s\"\ntimeout = \"1s\"\n\n\
         [[rules]]\nname = \"HighCpu\"\nmetric = \"cpu\"\nthreshold = 80\nenabled = false\n\n\
         [[rules]]\nname = \"HighMemory\"\nmetric = \"memory_percent\"\nthreshold = 85\nenabled = false\n\n\
         [[rules]]\nname = \"DiskFull\"\nmetric = \"disk_percent\"\nthreshold = 90\nseverity = \"critical\"\nenabled = false\n",
        proxy.url
    );
    let cfg = sandbox.write("slow.toml", &config);
    let cfg = cfg.to_str().expect("utf-8 path").to_owned();
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", &cfg], &[], 40, 160);
    s.send("2");
    s.wait_for("the alert", |t| t.contains("am ✓") && t.contains("1 critical"));
    s.send("jj");
    s.wait_for("the details pane", |t| t.contains("seen by") && t.contains("instance db1:9100"));
    s.send("A");
    s.wait_for("the ARMED countdown", |t| t.contains(" ARMED 1"));
    s.send(":silence\r");
    s.wait_for("the silence dialog", |t| t.contains("would silence 1 alert(s)"));
    s.send("\t\tslow am drill\r");
    let done = s.wait_for("the silence reported", |t| t.contains("created silence"));

    let ids = rt.block_on(am.silence_ids_with_comment("slow am drill"));
    assert_eq!(ids.len(), 1, "exactly one silence in Alertmanager: {ids:?}");
    assert!(
        done.contains(&format!("created silence {}", ids[0])),
        "the id it holds is the one reported\n{done}"
    );
    assert_eq!(proxy.matched(), 1, "one POST");
    assert!(done.contains("not sent twice"), "{done}");
    s.send("\x1b");
    s.wait_for("the run view to close", |t| !t.contains("Esc closes"));
    s.send("q");
    assert_eq!(s.wait_exit(), 0);
}
