//! Prometheus 2.42 seeing a fleet of node_exporters that are all one loopback
//! server: targets `node-0001:9100` … keep their names as the `instance`
//! label, and relabelling sends every scrape to the one real address. One
//! exporter thus stands in for a thousand nodes, each its own set of series.

use std::fmt::Write;
use std::time::Duration;

use super::Prometheus;

/// The job: the fleet's default `up` query selects jobs matching `.*node.*`.
pub const JOB: &str = "fleet-node";

/// The instance label of node `i` (1-based): `node-0001:9100`.
pub fn instance(i: usize) -> String {
    format!("node-{i:04}:9100")
}

impl Prometheus {
    /// Prometheus 2.42 scraping `exporter` (`host:port`, served at
    /// `/metrics`) every `interval` under `nodes` instance labels, as job `JOB`.
    pub async fn start_fleet(nodes: usize, exporter: &str, interval: Duration) -> Prometheus {
        let mut targets = String::new();
        for i in 1..=nodes {
            let sep = if i == 1 { "" } else { ", " };
            write!(targets, "{sep}\"{}\"", instance(i)).expect("write to a String");
        }
        // The timeout must not exceed the interval; the default (10 s) would.
        let timeout = interval.mul_f64(0.8).max(Duration::from_millis(100));
        let config = format!(
            "global:\n  scrape_interval: {}ms\n  scrape_timeout: {}ms\nscrape_configs:\n  \
             - job_name: \"{JOB}\"\n    static_configs:\n      - targets: [{targets}]\n    \
             relabel_configs:\n      - source_labels: [__address__]\n        target_label: instance\n      \
             - target_label: __address__\n        replacement: \"{exporter}\"\n",
            interval.as_millis(),
            timeout.as_millis(),
        );
        Prometheus::start_with(config).await
    }
}
