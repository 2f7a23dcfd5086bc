//! The fleet as the app knows it: each Prometheus server's and each
//! `[[nodes]]` target's latest report, kept whole (a report is a snapshot:
//! a node that left Prometheus leaves the table at the next poll).

use std::collections::BTreeMap;
use std::time::Instant;

use crate::sources::fleet::{FleetNode, FleetReport};

/// Every fleet source's latest report, by origin.
#[derive(Debug, Clone, Default)]
pub struct FleetPane {
    /// Origin (a `[[prometheus]]` or `[[nodes]]` name) → when it arrived, and the report.
    pub reports: BTreeMap<String, (Instant, FleetReport)>,
}

impl FleetPane {
    /// A report replaces its origin's previous one.
    pub fn on_report(&mut self, report: FleetReport, now: Instant) {
        self.reports.insert(report.origin.clone(), (now, report));
    }

    /// Every node from every origin, in origin order then instance order.
    pub fn nodes(&self) -> impl Iterator<Item = &FleetNode> {
        self.reports.values().flat_map(|(_, r)| &r.nodes)
    }

    /// Whether `origin` has reported.
    pub fn has_report(&self, origin: &str) -> bool {
        self.reports.contains_key(origin)
    }
}
