//! Debian's prometheus-node-exporter (1.5) on its own loopback port, with
//! only the collectors a fleet row reads: all of them work unprivileged, and
//! leaving the rest out keeps each scrape fast and free of host quirks.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{READY_DEADLINE, Server, free_port};

/// A running node_exporter; killed and reaped when dropped.
pub struct NodeExporter(pub Server);

impl NodeExporter {
    /// Start one and wait until its `/metrics` has CPU series. Retries on a
    /// fresh port if it exits (a port taken in between).
    pub async fn start() -> NodeExporter {
        let mut last_log = String::new();
        for _ in 0..3 {
            let dir = tempfile::tempdir().expect("temp dir");
            let port = free_port();
            let log = std::fs::File::create(dir.path().join("server.log")).expect("log file");
            let child = Command::new("prometheus-node-exporter")
                .args([
                    format!("--web.listen-address=127.0.0.1:{port}"),
                    "--collector.disable-defaults".into(),
                    "--collector.cpu".into(),
                    "--collector.meminfo".into(),
                    "--collector.filesystem".into(),
                    "--collector.loadavg".into(),
                    "--collector.netdev".into(),
                ])
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log clone"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| super::not_installed("prometheus-node-exporter", e));
            let mut server =
                Server { name: "node_exporter", url: format!("http://127.0.0.1:{port}"), port, child, dir };
            if wait_ready(&mut server).await {
                return NodeExporter(server);
            }
            last_log = server.log();
        }
        panic!("node_exporter did not become ready; its log:\n{last_log}");
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.0.url
    }

    /// The port, for targets such as `localhost:<port>`.
    pub fn port(&self) -> u16 {
        self.0.port
    }
}

async fn wait_ready(server: &mut Server) -> bool {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build().expect("client");
    let until = Instant::now() + READY_DEADLINE;
    while Instant::now() < until {
        if let Ok(Some(_)) = server.child.try_wait() {
            return false;
        }
        if let Ok(resp) = client.get(format!("{}/metrics", server.url)).send().await
            && resp.status().is_success()
            && resp.text().await.is_ok_and(|t| t.contains("node_cpu_seconds_total"))
        {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
