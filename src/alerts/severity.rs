//! Which severity an alert has, read from its labels. Teams spell severity
//! many ways (`critical`, `P1`, `page`, `紧急`); the handbooks' spellings are
//! built in, the config adds or moves spellings, and everything compares
//! case-insensitively.
//!
//! `error` maps to **critical**: with three levels, an alert its author
//! called an error says something is broken, and filing it with the
//! warnings would hide it. A team that means otherwise writes
//! `warning = ["error"]` under `[alerts.severity_spellings]`: configured
//! spellings win over built-in ones.

use std::collections::{BTreeMap, HashMap};

use super::model::Severity;
use crate::config::alerts::AlertsConfig;

/// The built-in spellings per level, lower case.
pub const BUILTIN_SPELLINGS: [(Severity, &[&str]); 3] = [
    (
        Severity::Critical,
        &["critical", "crit", "page", "p0", "p1", "error", "fatal", "emergency", "紧急", "严重"],
    ),
    (Severity::Warning, &["warning", "warn", "p2", "重要", "警告"]),
    (Severity::Info, &["info", "informational", "notice", "p3", "p4", "none", "一般", "信息"]),
];

/// The labels looked at, in order, when the config does not say.
pub const DEFAULT_LABELS: [&str; 3] = ["severity", "priority", "level"];

/// Maps an alert's labels to a `Severity`.
#[derive(Debug, Clone, PartialEq)]
pub struct SeverityMap {
    labels: Vec<String>,
    spellings: HashMap<String, Severity>,
}

impl Default for SeverityMap {
    fn default() -> Self {
        SeverityMap::new(DEFAULT_LABELS.iter().map(|l| (*l).to_owned()).collect(), [])
    }
}

impl SeverityMap {
    /// Look at `labels` in order; know the built-in spellings plus `extra`
    /// (which win over built-ins, so a spelling can be moved to another level).
    pub fn new<'a>(labels: Vec<String>, extra: impl IntoIterator<Item = (Severity, &'a str)>) -> SeverityMap {
        let mut spellings = HashMap::new();
        for (level, words) in BUILTIN_SPELLINGS {
            for w in words {
                spellings.insert((*w).to_owned(), level);
            }
        }
        for (level, w) in extra {
            spellings.insert(normalize(w).into_owned(), level);
        }
        SeverityMap { labels, spellings }
    }

    /// The map `[alerts]` describes.
    pub fn from_config(c: &AlertsConfig) -> SeverityMap {
        let s = &c.severity_spellings;
        let extra =
            [(Severity::Critical, &s.critical), (Severity::Warning, &s.warning), (Severity::Info, &s.info)]
                .into_iter()
                .flat_map(|(level, words)| words.iter().map(move |w| (level, w.as_str())));
        SeverityMap::new(c.severity_labels.clone(), extra)
    }

    /// The labels looked at, in order.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The severity of one spelling (`"P1"` → critical), `Unknown` when not known.
    pub fn level(&self, spelling: &str) -> Severity {
        let key = normalize(spelling);
        self.spellings.get(&*key).copied().unwrap_or(Severity::Unknown)
    }

    /// The first configured label present with a non-empty value decides
    /// (Prometheus treats an empty label as absent). An unknown spelling is
    /// `Unknown` rather than falling through to the next label, so a typo
    /// shows as unknown instead of being silently overridden.
    pub fn severity(&self, labels: &BTreeMap<String, String>) -> Severity {
        self.labels
            .iter()
            .find_map(|l| labels.get(l).filter(|v| !v.trim().is_empty()))
            .map_or(Severity::Unknown, |v| self.level(v))
    }
}

/// Trimmed and lower-cased; borrowed when already so (the common case: one
/// lookup per alert per poll should not allocate).
fn normalize(s: &str) -> std::borrow::Cow<'_, str> {
    let t = s.trim();
    if t.chars().any(char::is_uppercase) { t.to_lowercase().into() } else { t.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn builtin_spellings_are_case_insensitive() {
        let m = SeverityMap::default();
        let table = [
            ("critical", Severity::Critical),
            ("CRIT", Severity::Critical),
            ("Page", Severity::Critical),
            ("P1", Severity::Critical),
            ("p0", Severity::Critical),
            ("error", Severity::Critical),
            ("紧急", Severity::Critical),
            ("严重", Severity::Critical),
            ("Warning", Severity::Warning),
            ("warn", Severity::Warning),
            ("P2", Severity::Warning),
            ("重要", Severity::Warning),
            ("警告", Severity::Warning),
            ("INFO", Severity::Info),
            ("p3", Severity::Info),
            ("P4", Severity::Info),
            ("none", Severity::Info),
            ("一般", Severity::Info),
            ("信息", Severity::Info),
            (" warning ", Severity::Warning),
            ("p5", Severity::Unknown),
            ("", Severity::Unknown),
        ];
        for (spelling, want) in table {
            assert_eq!(m.level(spelling), want, "{spelling:?}");
        }
    }

    #[test]
    fn first_present_label_wins() {
        let m = SeverityMap::default();
        assert_eq!(m.severity(&labels(&[("priority", "P1"), ("level", "info")])), Severity::Critical);
        assert_eq!(m.severity(&labels(&[("severity", "warning"), ("priority", "P1")])), Severity::Warning);
        // Empty counts as absent; an unknown spelling does not fall through.
        assert_eq!(m.severity(&labels(&[("severity", ""), ("priority", "p3")])), Severity::Info);
        assert_eq!(m.severity(&labels(&[("severity", "sev9"), ("priority", "p1")])), Severity::Unknown);
        assert_eq!(m.severity(&labels(&[("job", "x")])), Severity::Unknown);
    }

    #[test]
    fn configured_spellings_add_and_override() {
        let m = SeverityMap::new(
            vec!["sev".into()],
            [(Severity::Critical, "SEV1"), (Severity::Warning, "error")],
        );
        assert_eq!(m.severity(&labels(&[("sev", "sev1")])), Severity::Critical);
        assert_eq!(m.severity(&labels(&[("sev", "Error")])), Severity::Warning);
        // Only the configured label is looked at.
        assert_eq!(m.severity(&labels(&[("severity", "critical")])), Severity::Unknown);
    }
}
