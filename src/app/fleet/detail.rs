//! One fleet node opened on the Metrics tab: the same charts this node has
//! (CPU, memory, network), plus its fullest file system and load. A
//! Prometheus node's charts start from a `query_range` over the chart
//! window, so they are full the moment the view opens; a scraped node's come
//! from the scrapes opsdeck has made since it started. Both then grow with
//! each new report.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::NodeKey;
use crate::model::history::History;
use crate::sources::fleet::{FleetHistory, FleetNode};

/// The series the detail view charts.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSeries {
    /// Busy CPU, percent.
    pub cpu: History,
    /// Memory in use, percent.
    pub memory: History,
    /// The fullest file system, percent.
    pub filesystem: History,
    /// 1-minute load.
    pub load: History,
    /// Bytes/s received.
    pub rx: History,
    /// Bytes/s sent.
    pub tx: History,
}

/// Resolution the series keep: a point per 5 s is finer than any chart draws.
const PERIOD: Duration = Duration::from_secs(5);

impl NodeSeries {
    /// Empty series over `window`.
    pub fn new(window: Duration) -> NodeSeries {
        let h = || History::new(window, PERIOD);
        NodeSeries { cpu: h(), memory: h(), filesystem: h(), load: h(), rx: h(), tx: h() }
    }

    /// Add a report's values (missing ones leave a gap).
    pub fn push(&mut self, at: Instant, n: &FleetNode) {
        let pairs = [
            (&mut self.cpu, n.cpu_percent),
            (&mut self.memory, n.memory_percent),
            (&mut self.filesystem, n.filesystem_percent),
            (&mut self.load, n.load1),
            (&mut self.rx, n.rx_bytes_per_sec),
            (&mut self.tx, n.tx_bytes_per_sec),
        ];
        for (h, v) in pairs {
            if let Some(v) = v {
                h.push(at, v);
            }
        }
    }
}

/// What the loop asks Prometheus for when a node opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRequest {
    /// The `[[prometheus]]` entry.
    pub origin: String,
    /// The node's instance label.
    pub instance: String,
    /// How far back.
    pub window: Duration,
}

/// The open node.
#[derive(Debug, Clone)]
pub struct NodeDetail {
    /// Origin and instance.
    pub key: NodeKey,
    /// Its charts.
    pub series: NodeSeries,
    /// Charts bucket from here: the window's start when it opened, so
    /// history from before opsdeck started lands in its own columns.
    pub epoch: Instant,
    /// The history query has not come back yet.
    pub loading: bool,
    /// What went wrong with the history query, if anything.
    pub error: Option<String>,
}

impl NodeDetail {
    /// A detail view opened at `now`, charting `window`.
    pub fn new(key: NodeKey, window: Duration, now: Instant) -> NodeDetail {
        // Shortly after boot the monotonic clock cannot go back a whole window.
        let epoch = now.checked_sub(window).unwrap_or(now);
        NodeDetail { key, series: NodeSeries::new(window), epoch, loading: false, error: None }
    }

    /// Fold the `query_range` answers in, ahead of what reports added since.
    pub fn on_history(&mut self, history: FleetHistory, now: Instant, wall: SystemTime) {
        self.loading = false;
        self.error = (!history.errors.is_empty()).then(|| history.errors.join("; "));
        let wall_s = wall.duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
        let to_instant = |t: f64| {
            let back = Duration::try_from_secs_f64((wall_s - t).max(0.0)).ok()?;
            now.checked_sub(back)
        };
        let window = self.series.cpu.window();
        let mut fresh = NodeSeries::new(window);
        let pairs = [
            (&mut fresh.cpu, &history.cpu, &self.series.cpu),
            (&mut fresh.memory, &history.memory, &self.series.memory),
            (&mut fresh.filesystem, &history.filesystem, &self.series.filesystem),
            (&mut fresh.load, &history.load, &self.series.load),
            (&mut fresh.rx, &history.rx, &self.series.rx),
            (&mut fresh.tx, &history.tx, &self.series.tx),
        ];
        for (into, points, since) in pairs {
            for &(t, v) in points {
                if let Some(at) = to_instant(t) {
                    into.push(at, v);
                }
            }
            // Reports that arrived while the query ran are newer: keep them.
            for (at, v) in since.points() {
                into.push(at, v);
            }
        }
        self.series = fresh;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_lands_before_newer_reports() {
        let now = Instant::now();
        let wall = SystemTime::now();
        let wall_s = wall.duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0);
        let mut d = NodeDetail::new(("prom".into(), "a:9100".into()), Duration::from_secs(300), now);
        let newer = FleetNode { cpu_percent: Some(77.0), ..FleetNode::default() };
        d.series.push(now, &newer);
        let history = FleetHistory {
            origin: "prom".into(),
            instance: "a:9100".into(),
            cpu: vec![(wall_s - 120.0, 10.0), (wall_s - 60.0, 20.0)],
            errors: vec!["load query failed: x".into()],
            ..FleetHistory::default()
        };
        d.on_history(history, now, wall);
        assert!(!d.loading);
        assert_eq!(d.series.cpu.len(), 3);
        assert_eq!(d.series.cpu.latest(), Some(77.0));
        assert_eq!(d.series.cpu.max(), Some(77.0));
        assert_eq!(d.error.as_deref(), Some("load query failed: x"));
    }
}
