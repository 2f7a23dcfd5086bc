//! The fleet: other nodes' CPU, memory, worst filesystem, load, network and
//! up/down for tab 1's node table, from two kinds of source that give the
//! same rows. A Prometheus is asked one instant query per metric for all its
//! nodes at once (`promql`); a `[[nodes]]` target's node_exporter text is
//! scraped and turned into the same numbers, rates from two scrapes (`scrape`).
//! Values are the ones this node's `NodeSample` shows (memory used is total
//! minus available; a filesystem's use counts the space root keeps back), so
//! this node and the fleet read alike.

mod exposition;
mod history;
mod promql;
mod reading;
mod scrape;

use std::time::SystemTime;

pub use exposition::{ParseError, Sample, parse as parse_exposition};
pub use history::{
    FleetHistory, HISTORY_POINTS, HISTORY_SOURCE, MAX_POINTS, history, node_history, range_step,
    where_instance,
};
pub use promql::{
    instant_vector, poll as poll_prometheus, source_name as prometheus_source, spawn as spawn_prometheus,
};
pub use scrape::{MEASURING, Scraper, source_name as node_source, spawn as spawn_node};

/// One node's row.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FleetNode {
    /// The node as its instance label says (`db1:9100`); for a `[[nodes]]`
    /// target, the host and port of its URL, as Prometheus would label it.
    pub instance: String,
    /// Busy CPU, percent of all cores.
    pub cpu_percent: Option<f64>,
    /// Memory in use, percent.
    pub memory_percent: Option<f64>,
    /// The fullest file system, percent.
    pub filesystem_percent: Option<f64>,
    /// 1-minute load average.
    pub load1: Option<f64>,
    /// Bytes received per second (loopback and virtual devices left out).
    pub rx_bytes_per_sec: Option<f64>,
    /// Bytes sent per second.
    pub tx_bytes_per_sec: Option<f64>,
    /// Whether the node's exporter answered its last scrape.
    pub up: Option<bool>,
    /// When the node was last scraped (by Prometheus, or by us): the age of
    /// its newest sample.
    pub scraped_at: Option<SystemTime>,
    /// The `[[prometheus]]` or `[[nodes]]` entry it came from.
    pub origin: String,
    /// Why a node that is down is: the scrape's error (Prometheus's
    /// `lastError` for the target, or our own scrape's).
    pub down_reason: Option<String>,
}

/// One poll of one fleet source: a whole snapshot of its nodes, not a diff.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FleetReport {
    /// The `[[prometheus]]` or `[[nodes]]` entry's name.
    pub origin: String,
    /// Its nodes, sorted by instance.
    pub nodes: Vec<FleetNode>,
    /// What is partly wrong with this poll though it gave rows (a failed
    /// query, a node that is down, Prometheus's own warnings).
    pub warnings: Vec<String>,
}
