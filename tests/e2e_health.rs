//! Health checks end to end: the real binary in a PTY probing a loopback
//! HTTP server and a closed port. The Metrics tab shows each check's state,
//! status and why it fails; a failing check fires `HealthCheckDown` on the
//! Alerts tab, and the healthy one does not.

mod backends;
mod common;

use backends::fake_http::{FakeServer, Reply};
use common::Sandbox;

#[test]
fn up_down_and_refused_checks_show_and_alert() {
    // Multi-threaded so the server keeps answering while the test waits on the PTY.
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
    let server = rt.block_on(FakeServer::start(|req| async move {
        match req.path.as_str() {
            "/health" => Reply::json(200, r#"{"status":"UP"}"#),
            _ => Reply::json(503, r#"{"status":"DOWN"}"#),
        }
    }));
    let closed = backends::free_port();
    let sandbox = Sandbox::new();
    // The resource rules are off so only the checks can raise alerts; the
    // down rule waits 1 s instead of 30 s so the test need not.
    let config = format!(
        "[[health]]\nname = \"api\"\nurl = \"{url}/health\"\ninterval = \"1s\"\n\
         json_field = \"status\"\njson_value = \"UP\"\n\n\
         [[health]]\nname = \"ready\"\nurl = \"{url}/ready\"\ninterval = \"1s\"\n\n\
         [[health]]\nname = \"gone\"\nurl = \"http://127.0.0.1:{closed}/health\"\ninterval = \"1s\"\n\n\
         [[rules]]\nname = \"HealthCheckDown\"\nfor = \"1s\"\n\n\
         [[rules]]\nname = \"HighCpu\"\nenabled = false\n\n\
         [[rules]]\nname = \"HighMemory\"\nenabled = false\n\n\
         [[rules]]\nname = \"DiskFull\"\nenabled = false\n",
        url = server.url
    );
    let cfg = sandbox.write("health.toml", &config);
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", cfg.to_str().expect("utf-8")], &[], 40, 160);

    let screen = s.wait_for("the three checks probed", |t| {
        t.contains("✓ up") && t.contains("503 Service Unavailable") && t.contains("connection refused")
    });
    let row = |name: &str| screen.lines().find(|l| l.contains(&format!("│{name} "))).unwrap_or("").to_owned();
    assert!(row("api").contains("200"), "api is up with its status: {}", row("api"));
    assert!(row("ready").contains("✗ down") && row("ready").contains("503"), "{}", row("ready"));
    assert!(row("gone").contains("✗ down"), "{}", row("gone"));
    assert!(screen.contains("2/3 down"), "the pane title counts what is down:\n{screen}");

    s.send("2");
    // Firing once `for` has passed, not just pending.
    let alerts = s.wait_for("the down checks firing", |t| {
        t.contains("HealthCheckDown") && t.matches("critical firing").count() == 2
    });
    assert!(!alerts.contains("Health check api"), "the healthy check does not alert:\n{alerts}");
}
