//! `opsdeck --wall` end to end: the real binary in a PTY starts on the
//! large-type summary, read-only, and moves on to the tabs by itself.

mod common;

use common::Sandbox;

#[test]
fn the_wall_starts_on_the_summary_read_only_and_cycles_unattended() {
    let sandbox = Sandbox::new();
    let cfg = sandbox.write("wall.toml", "[wall]\ncycle = \"5s\"\n");
    let s =
        sandbox.spawn_sized(&[common::BIN, "--wall", "--config", cfg.to_str().expect("utf-8")], &[], 30, 100);
    let summary = s.wait_for("the summary", |t| t.contains("WORST LAG") && t.contains("STALEST BACKUP"));
    assert!(summary.contains("READ-ONLY"), "the wall only watches:\n{summary}");
    assert!(summary.contains("███"), "values in large type:\n{summary}");
    // No key pressed: after one cycle the Metrics tab is up.
    s.wait_for("the Metrics tab, unattended", |t| t.contains("Processes") && !t.contains("WORST LAG"));
}
