//! The fleet as the app knows it: one row per node from every Prometheus
//! and `[[nodes]]` target, kept in display order (this node first, down
//! nodes next, then worst first against the thresholds), filtered, with a
//! selection that follows its node through re-sorts and an open detail view.
//!
//! A report is a snapshot: a node that left Prometheus leaves the table at
//! its origin's next report. A single value that went missing (its query
//! failed this round) is carried forward for a while and marked stale with
//! its own age, so one broken query does not blank a column.

mod detail;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

pub use detail::{HistoryRequest, NodeDetail, NodeSeries};

use crate::alerts::rules::Sample;
use crate::config::Thresholds;
use crate::sources::fleet::{FleetHistory, FleetNode, FleetReport};

/// How long a value missing from its origin's newest report is still shown
/// (marked stale): a few polls, not long enough to pass for current.
pub const CARRY_FOR: Duration = Duration::from_secs(300);

/// A node is found by its origin and instance: two Prometheus servers may
/// both scrape one host.
pub type NodeKey = (String, String);

/// The six values a row shows, in `FleetRow::seen` order.
pub const VALUES: usize = 6;

/// One node as the table shows it.
#[derive(Debug, Clone)]
pub struct FleetRow {
    /// The newest values, a missing one carried from an earlier report.
    pub node: FleetNode,
    /// When each value (cpu, memory, filesystem, load, rx, tx) was last in a
    /// report; older than its origin's newest report means carried (stale).
    pub seen: [Option<Instant>; VALUES],
    /// When its origin's newest report arrived.
    pub reported: Instant,
}

impl FleetRow {
    /// The values in `seen` order.
    pub fn values(&self) -> [Option<f64>; VALUES] {
        values_of(&self.node)
    }

    /// Whether value `i` is carried from an earlier report; its age if so.
    pub fn stale_value(&self, i: usize, now: Instant) -> Option<Duration> {
        let seen = self.seen[i]?;
        (seen < self.reported).then(|| now.saturating_duration_since(seen))
    }

    fn key(&self) -> NodeKey {
        (self.node.origin.clone(), self.node.instance.clone())
    }
}

fn values_of(n: &FleetNode) -> [Option<f64>; VALUES] {
    [n.cpu_percent, n.memory_percent, n.filesystem_percent, n.load1, n.rx_bytes_per_sec, n.tx_bytes_per_sec]
}

fn slots(n: &mut FleetNode) -> [&mut Option<f64>; VALUES] {
    [
        &mut n.cpu_percent,
        &mut n.memory_percent,
        &mut n.filesystem_percent,
        &mut n.load1,
        &mut n.rx_bytes_per_sec,
        &mut n.tx_bytes_per_sec,
    ]
}

/// The fleet table's state.
#[derive(Debug, Clone, Default)]
pub struct FleetPane {
    /// Origin → when its newest report arrived, and that report's warnings
    /// (its nodes are moved into the rows).
    pub reports: BTreeMap<String, (Instant, FleetReport)>,
    rows: Vec<FleetRow>,
    /// Indices into `rows` that pass the filter, in display order.
    order: Vec<usize>,
    /// Substring (any case) of the instance or origin the table shows.
    pub filter: String,
    /// True while the filter is being typed.
    pub editing_filter: bool,
    selected: Option<NodeKey>,
    /// The Metrics tab's keys move this table, not the process list.
    pub focused: bool,
    /// The node whose charts replace this node's on the Metrics tab.
    pub detail: Option<NodeDetail>,
    history_request: Option<HistoryRequest>,
    /// History of the directly scraped nodes (Prometheus keeps its own).
    scraped_series: HashMap<NodeKey, NodeSeries>,
    scraped_origins: Vec<String>,
    host: String,
    thresholds: Thresholds,
    window: Duration,
}

impl FleetPane {
    /// An empty table judging nodes against `thresholds`, with `host`'s own
    /// row first; charts keep `window`. `scraped_origins` are the
    /// `[[nodes]]` names, whose history is kept here from their scrapes.
    pub fn new(
        host: &str,
        thresholds: Thresholds,
        window: Duration,
        scraped_origins: Vec<String>,
    ) -> FleetPane {
        FleetPane { host: host.to_owned(), thresholds, window, scraped_origins, ..FleetPane::default() }
    }

    /// A report replaces its origin's rows; values it lacks are carried.
    pub fn on_report(&mut self, mut report: FleetReport, now: Instant) {
        let nodes = std::mem::take(&mut report.nodes);
        let origin = report.origin.clone();
        let (old, kept): (Vec<FleetRow>, Vec<FleetRow>) =
            std::mem::take(&mut self.rows).into_iter().partition(|r| r.node.origin == origin);
        self.rows = kept;
        let mut previous: HashMap<String, FleetRow> =
            old.into_iter().map(|r| (r.node.instance.clone(), r)).collect();
        let scraped = self.scraped_origins.contains(&origin);
        for mut node in nodes {
            let mut seen = [None; VALUES];
            let old = previous.remove(&node.instance);
            let fresh = values_of(&node);
            for (i, slot) in slots(&mut node).into_iter().enumerate() {
                if fresh[i].is_some() {
                    seen[i] = Some(now);
                    continue;
                }
                let Some(old) = &old else { continue };
                if old.seen[i].is_some_and(|t| now.saturating_duration_since(t) <= CARRY_FOR) {
                    *slot = old.values()[i];
                    seen[i] = old.seen[i];
                }
            }
            let key = (origin.clone(), node.instance.clone());
            if scraped {
                let window = self.window;
                self.scraped_series
                    .entry(key.clone())
                    .or_insert_with(|| NodeSeries::new(window))
                    .push(now, &node);
            }
            if let Some(d) = self.detail.as_mut().filter(|d| d.key == key) {
                d.series.push(now, &node);
            }
            self.rows.push(FleetRow { node, seen, reported: now });
        }
        // Nodes that left a scraped origin take their history with them.
        let rows = &self.rows;
        self.scraped_series.retain(|k, _| {
            k.0 != origin || rows.iter().any(|r| r.node.origin == k.0 && r.node.instance == k.1)
        });
        self.reports.insert(origin, (now, report));
        self.resort();
    }

    /// A history query for the open detail view came back.
    pub fn on_history(&mut self, history: FleetHistory, now: Instant, wall: std::time::SystemTime) {
        if let Some(d) =
            self.detail.as_mut().filter(|d| d.key == (history.origin.clone(), history.instance.clone()))
        {
            d.on_history(history, now, wall);
        }
    }

    /// The history query for the open detail view failed.
    pub fn on_history_error(&mut self, error: String) {
        if let Some(d) = &mut self.detail {
            d.loading = false;
            d.error = Some(error);
        }
    }

    /// Every row in display order, filtered.
    pub fn visible(&self) -> impl Iterator<Item = &FleetRow> {
        self.order.iter().map(|&i| &self.rows[i])
    }

    /// Every node, in display order, whatever the filter.
    pub fn nodes(&self) -> impl Iterator<Item = &FleetNode> {
        self.rows.iter().map(|r| &r.node)
    }

    /// Rows before filtering.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// No node has reported.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether `origin` has reported.
    pub fn has_report(&self, origin: &str) -> bool {
        self.reports.contains_key(origin)
    }

    /// The selected row's position among the visible ones.
    pub fn selected_index(&self) -> Option<usize> {
        let key = self.selected.as_ref()?;
        self.order
            .iter()
            .position(|&i| self.rows[i].node.origin == key.0 && self.rows[i].node.instance == key.1)
    }

    /// The selected node.
    pub fn selected(&self) -> Option<&FleetRow> {
        self.selected_index().map(|i| &self.rows[self.order[i]])
    }

    /// Move the selection by `delta` rows (from the top when none).
    pub fn move_by(&mut self, delta: isize) {
        if self.order.is_empty() {
            return;
        }
        let last = self.order.len() as isize - 1;
        let at = self
            .selected_index()
            .map_or(if delta < 0 { last } else { 0 }, |i| (i as isize + delta).clamp(0, last));
        self.select_at(at as usize);
    }

    /// Select the first (`false`) or last row.
    pub fn jump(&mut self, to_end: bool) {
        if !self.order.is_empty() {
            self.select_at(if to_end { self.order.len() - 1 } else { 0 });
        }
    }

    fn select_at(&mut self, i: usize) {
        self.selected = self.order.get(i).map(|&r| self.rows[r].key());
    }

    /// The node `value` names, matched as a whole or by its host part
    /// (`db1` and `db1:3306` find `db1:9100`).
    pub fn find_instance(&self, value: &str) -> Option<&str> {
        let host = |s: &str| s.split(':').next().unwrap_or(s).to_ascii_lowercase();
        let wanted = host(value);
        self.rows
            .iter()
            .find(|r| r.node.instance == value)
            .or_else(|| self.rows.iter().find(|r| host(&r.node.instance) == wanted))
            .map(|r| r.node.instance.as_str())
    }

    /// Select (and focus) the node `value` names (see `find_instance`),
    /// clearing a filter that hides it. Returns whether one was found.
    pub fn select_instance(&mut self, value: &str) -> bool {
        let Some(row) =
            self.find_instance(value).and_then(|i| self.rows.iter().find(|r| r.node.instance == i))
        else {
            return false;
        };
        let key = row.key();
        if !self.order.iter().any(|&i| self.rows[i].key() == key) {
            self.set_filter(String::new());
        }
        self.selected = Some(key);
        self.focused = true;
        true
    }

    /// Show only nodes whose instance or origin contains `filter` (any case).
    pub fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.resort();
    }

    /// Open the selected node's detail view; a Prometheus node asks for its
    /// history (see `take_history_request`), a scraped one has it here.
    pub fn open_selected(&mut self, now: Instant) {
        let Some(row) = self.selected() else { return };
        let key = row.key();
        let mut detail = NodeDetail::new(key.clone(), self.window, now);
        match self.scraped_series.get(&key) {
            Some(series) => detail.series = series.clone(),
            None => {
                detail.loading = true;
                self.history_request =
                    Some(HistoryRequest { origin: key.0, instance: key.1, window: self.window });
            }
        }
        self.detail = Some(detail);
    }

    /// The history query the loop should run, once.
    pub fn take_history_request(&mut self) -> Option<HistoryRequest> {
        self.history_request.take()
    }

    /// `fleet_node_down` (1 or 0) for every node whose up is known, labelled
    /// `instance` and `origin`, for the `NodeDown` rule.
    pub fn samples(&self) -> Vec<Sample> {
        self.rows
            .iter()
            .filter_map(|r| {
                let up = r.node.up?;
                let labels = BTreeMap::from([
                    ("instance".to_owned(), r.node.instance.clone()),
                    ("origin".to_owned(), r.node.origin.clone()),
                ]);
                Some(Sample { metric: "fleet_node_down".into(), labels, value: if up { 0.0 } else { 1.0 } })
            })
            .collect()
    }

    /// Sort the rows, then build the filtered order.
    fn resort(&mut self) {
        let (host, th) = (self.host.as_str(), &self.thresholds);
        let this_host = |n: &FleetNode| n.instance.split(':').next() == Some(host);
        // Badness once per row, not once per comparison.
        let mut keyed: Vec<(bool, f64, FleetRow)> =
            self.rows.drain(..).map(|r| (this_host(&r.node), badness(&r.node, th), r)).collect();
        keyed.sort_by(|a, b| {
            b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)).then(a.2.node.instance.cmp(&b.2.node.instance))
        });
        self.rows = keyed.into_iter().map(|(_, _, r)| r).collect();
        let needle = self.filter.to_lowercase();
        self.order = (0..self.rows.len())
            .filter(|&i| {
                let n = &self.rows[i].node;
                needle.is_empty()
                    || n.instance.to_lowercase().contains(&needle)
                    || n.origin.to_lowercase().contains(&needle)
            })
            .collect();
    }
}

/// How bad a node is, for sorting: down beats everything; otherwise the
/// largest share of a critical threshold among CPU, memory and disk.
pub fn badness(n: &FleetNode, th: &Thresholds) -> f64 {
    if n.up == Some(false) {
        return f64::INFINITY;
    }
    [
        (n.cpu_percent, th.cpu.critical),
        (n.memory_percent, th.memory.critical),
        (n.filesystem_percent, th.disk.critical),
    ]
    .into_iter()
    .filter_map(|(v, crit)| v.map(|v| v / crit.max(1.0)))
    .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(instance: &str, cpu: Option<f64>, up: bool) -> FleetNode {
        FleetNode {
            instance: instance.into(),
            cpu_percent: cpu,
            memory_percent: Some(10.0),
            up: Some(up),
            origin: "prom".into(),
            ..FleetNode::default()
        }
    }

    fn report(nodes: Vec<FleetNode>) -> FleetReport {
        FleetReport { origin: "prom".into(), nodes, warnings: Vec::new() }
    }

    fn pane() -> FleetPane {
        FleetPane::new("me", Thresholds::default(), Duration::from_secs(300), Vec::new())
    }

    fn instances(p: &FleetPane) -> Vec<&str> {
        p.visible().map(|r| r.node.instance.as_str()).collect()
    }

    #[test]
    fn this_node_first_then_down_then_worst() {
        let mut p = pane();
        let t0 = Instant::now();
        p.on_report(
            report(vec![
                node("a:9100", Some(10.0), true),
                node("b:9100", Some(95.0), true),
                node("c:9100", Some(1.0), false),
                node("me:9100", Some(0.0), true),
            ]),
            t0,
        );
        assert_eq!(instances(&p), ["me:9100", "c:9100", "b:9100", "a:9100"]);
        p.set_filter("A:".into());
        assert_eq!(instances(&p), ["a:9100"]);
        assert_eq!(p.samples().iter().filter(|s| s.value == 1.0).count(), 1);
    }

    #[test]
    fn selection_follows_its_node_and_a_missing_value_is_carried_stale() {
        let mut p = pane();
        let t0 = Instant::now();
        p.on_report(report(vec![node("a:9100", Some(10.0), true), node("b:9100", Some(50.0), true)]), t0);
        p.move_by(1);
        assert_eq!(p.selected().map(|r| r.node.instance.as_str()), Some("b:9100"));
        p.move_by(1);
        assert_eq!(p.selected().map(|r| r.node.instance.as_str()), Some("a:9100"));
        // a gets worse and moves to the top; the selection goes with it.
        // b's cpu query failed this round: its old value is kept, marked stale.
        let t1 = t0 + Duration::from_secs(15);
        p.on_report(report(vec![node("a:9100", Some(90.0), true), node("b:9100", None, true)]), t1);
        assert_eq!(p.selected_index(), Some(0));
        let b = p.visible().find(|r| r.node.instance == "b:9100").expect("b");
        assert_eq!(b.node.cpu_percent, Some(50.0));
        assert_eq!(b.stale_value(0, t1 + Duration::from_secs(1)), Some(Duration::from_secs(16)));
        assert_eq!(b.stale_value(1, t1), None, "memory came in this report");
        // Past CARRY_FOR the carried value is dropped.
        let t2 = t0 + CARRY_FOR + Duration::from_secs(1);
        p.on_report(report(vec![node("b:9100", None, true)]), t2);
        assert_eq!(instances(&p), ["b:9100"], "a left Prometheus, so it leaves the table");
        assert_eq!(p.visible().next().and_then(|r| r.node.cpu_percent), None);
    }

    #[test]
    fn select_instance_matches_by_host_and_clears_a_hiding_filter() {
        let mut p = pane();
        p.on_report(
            report(vec![node("db1:9100", Some(1.0), true), node("web1:9100", Some(1.0), true)]),
            Instant::now(),
        );
        p.set_filter("web".into());
        assert!(p.select_instance("db1"));
        assert!(p.filter.is_empty() && p.focused);
        assert_eq!(p.selected().map(|r| r.node.instance.as_str()), Some("db1:9100"));
        assert!(!p.select_instance("db9"));
    }
}
