//! The fleet pane end to end: the real binary in a PTY scraping a real
//! node_exporter and a closed port as `[[nodes]]` targets. The live node
//! shows its figures; the dead one is listed first, marked down, and fires
//! the `NodeDown` rule.

mod backends;
mod common;

use backends::node_exporter::NodeExporter;
use common::Sandbox;

#[test]
fn scraped_nodes_show_on_the_metrics_tab_dead_ones_first() {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("rt");
    let exporter = rt.block_on(NodeExporter::start());
    let closed = backends::free_port();
    let sandbox = Sandbox::new();
    let cfg = sandbox.write(
        "fleet.toml",
        &format!(
            "[[nodes]]\nname = \"live\"\nurl = \"{}\"\ninterval = \"1s\"\n\n\
             [[nodes]]\nname = \"dead\"\nurl = \"http://127.0.0.1:{closed}/metrics\"\ninterval = \"1s\"\ntimeout = \"1s\"\n\n\
             [[rules]]\nname = \"NodeDown\"\nfor = \"0s\"\n",
            exporter.url()
        ),
    );
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", cfg.to_str().expect("utf-8")], &[], 40, 160);
    let live = format!("127.0.0.1:{}", exporter.port());
    let dead = format!("127.0.0.1:{closed}");
    // The second scrape gives the live node its CPU figure (the first has no rate yet).
    let screen = s.wait_for("both nodes, the live one with CPU", |t| {
        t.contains("Fleet 2 nodes")
            && t.contains("1 down")
            && t.lines().any(|l| l.contains(&live) && l.contains('✓'))
    });
    let rows: Vec<&str> = screen.lines().filter(|l| l.contains(&live) || l.contains(&dead)).collect();
    assert!(
        rows.len() == 2 && rows[0].contains(&dead) && rows[0].contains('✗'),
        "the dead node first:\n{screen}"
    );
    assert!(rows[1].contains("(live)") || rows[1].contains("live"), "{screen}");

    // The dead node fires NodeDown (its `for` cut to 0 here; 60 s by default).
    s.send("2");
    let fired = format!("Node {dead} is down (from dead)");
    let alerts = s.wait_for("NodeDown for the dead node", |t| t.contains(&fired));
    assert!(!alerts.contains(&format!("Node {live} is down")), "{alerts}");
}
