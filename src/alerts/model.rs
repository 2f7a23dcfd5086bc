//! One model for every alert, whichever source raised it: opsdeck's own
//! rules, Alertmanager, or Prometheus.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

/// How bad. Ordered: `Critical` sorts first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Page someone.
    Critical,
    /// Look soon.
    Warning,
    /// For the record.
    Info,
    /// No severity label, or one the mapping does not know.
    Unknown,
}

impl Severity {
    /// The spelling shown and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::Warning => "warning",
            Severity::Info => "info",
            Severity::Unknown => "unknown",
        }
    }
}

/// Where an alert stands. Ordered by how much it asks for attention.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Firing and not suppressed.
    Firing,
    /// Its condition holds but its `for` has not passed yet.
    Pending,
    /// Acknowledged in opsdeck: visible, quiet.
    Acked,
    /// Silenced in Alertmanager.
    Silenced,
    /// Inhibited by another alert in Alertmanager.
    Inhibited,
    /// No longer firing (kept for the timeline).
    Resolved,
}

impl AlertState {
    /// The spelling shown and exported.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Firing => "firing",
            AlertState::Pending => "pending",
            AlertState::Acked => "acked",
            AlertState::Silenced => "silenced",
            AlertState::Inhibited => "inhibited",
            AlertState::Resolved => "resolved",
        }
    }

    /// Silenced, inhibited and acked alerts live in their own section.
    pub fn is_quiet(self) -> bool {
        matches!(self, AlertState::Acked | AlertState::Silenced | AlertState::Inhibited)
    }
}

/// Which kind of source raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// opsdeck's own rule engine.
    Local,
    /// An Alertmanager (API v2).
    Alertmanager,
    /// A Prometheus server's `/api/v1/alerts`.
    Prometheus,
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The configured name of the source that reported it (the first, after dedup).
    pub source: String,
    /// Its kind.
    pub source_kind: SourceKind,
    /// Identity: Alertmanager's fingerprint, or the same hash of the label set
    /// (see `fingerprint`), so one alert seen by Prometheus and Alertmanager is one row.
    pub fingerprint: String,
    /// `alertname`.
    pub name: String,
    /// Mapped from the labels (see `SeverityMap`).
    pub severity: Severity,
    /// Where it stands.
    pub state: AlertState,
    /// Every label. Shared: merging one alert seen by several sources
    /// copies the alert, never its labels.
    pub labels: Arc<BTreeMap<String, String>>,
    /// Every annotation (summary, description, runbook_url, ...), shared too.
    pub annotations: Arc<BTreeMap<String, String>>,
    /// When it started (RFC 3339, as the source said).
    pub starts_at: Option<jiff::Timestamp>,
    /// When it ends or ended, if the source says.
    pub ends_at: Option<jiff::Timestamp>,
    /// The value that triggered it, where the source gives one.
    pub value: Option<String>,
    /// Link to the expression that raised it.
    pub generator_url: Option<String>,
    /// Silence ids that suppress it.
    pub silenced_by: Vec<String>,
    /// Fingerprints of the alerts inhibiting it.
    pub inhibited_by: Vec<String>,
    /// Every source that reported it (after dedup, more than one when several
    /// Alertmanagers or a Prometheus and an Alertmanager hold it).
    pub seen_by: Vec<String>,
}

impl Alert {
    /// An annotation by name.
    pub fn annotation(&self, name: &str) -> Option<&str> {
        self.annotations.get(name).map(String::as_str)
    }

    /// The one line an operator reads first: summary, else description, else the name.
    pub fn headline(&self) -> &str {
        self.annotation("summary").or_else(|| self.annotation("description")).unwrap_or(&self.name)
    }
}

/// Alertmanager's and Prometheus's label-set fingerprint: FNV-1a 64 over the
/// sorted label names and values, each followed by the byte 0xff, printed as
/// 16 hex digits. Computing the same hash for Prometheus and local alerts
/// lets one alert seen through several sources collapse into one row.
pub fn fingerprint(labels: &BTreeMap<String, String>) -> String {
    const OFFSET: u64 = 14_695_981_039_346_656_037;
    const PRIME: u64 = 1_099_511_628_211;
    const SEPARATOR: u8 = 0xff;
    let mut hash = OFFSET;
    let mut add = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(PRIME);
        }
    };
    // BTreeMap iterates in sorted (byte-wise) order, as Go's sort.Strings does.
    for (name, value) in labels {
        add(name.as_bytes());
        add(&[SEPARATOR]);
        add(value.as_bytes());
        add(&[SEPARATOR]);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_fnv1a_over_sorted_labels() {
        // The empty set hashes to the FNV offset basis.
        assert_eq!(fingerprint(&BTreeMap::new()), "cbf29ce484222325");
        let a =
            BTreeMap::from([("alertname".to_owned(), "X".to_owned()), ("job".to_owned(), "y".to_owned())]);
        let b =
            BTreeMap::from([("job".to_owned(), "y".to_owned()), ("alertname".to_owned(), "X".to_owned())]);
        assert_eq!(fingerprint(&a), fingerprint(&b));
        assert_ne!(fingerprint(&a), fingerprint(&BTreeMap::from([("alertname".to_owned(), "X".to_owned())])));
    }
}
