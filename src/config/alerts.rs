//! `[alerts]` (how the Alerts tab groups and reads severities) and
//! `[[rules]]` (opsdeck's own threshold alerts). Rules are checked while
//! deserializing, so a bad op, severity or clear bound is reported at the
//! line and column of its entry.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::duration;
use crate::alerts::model::Severity;
use crate::alerts::rules::check_template;

mod builtin;

/// `[alerts]`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsConfig {
    /// Labels whose values make a group on the tab (`[]`: one group).
    pub group_by: Vec<String>,
    /// Labels read for the severity, in order; the first present wins.
    pub severity_labels: Vec<String>,
    /// Spellings added to (or moved between) the built-in levels.
    pub severity_spellings: SeveritySpellings,
    /// Ring the terminal bell when a new critical alert starts firing.
    pub bell: bool,
    /// Labels that name the host an alert concerns, tried in order: the
    /// jump from an alert to its node, replication member or logs reads them.
    pub link_labels: Vec<String>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            group_by: vec!["alertname".into()],
            severity_labels: crate::alerts::severity::DEFAULT_LABELS.iter().map(|l| (*l).into()).collect(),
            severity_spellings: SeveritySpellings::default(),
            bell: false,
            link_labels: vec!["instance".into(), "job".into(), "host".into()],
        }
    }
}

/// `[alerts.severity_spellings]`: extra spellings per level, case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(try_from = "RawSpellings")]
pub struct SeveritySpellings {
    /// Spellings that mean critical.
    pub critical: Vec<String>,
    /// Spellings that mean warning.
    pub warning: Vec<String>,
    /// Spellings that mean info.
    pub info: Vec<String>,
}

#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
#[derive(Default)]
struct RawSpellings {
    critical: Vec<String>,
    warning: Vec<String>,
    info: Vec<String>,
}

impl TryFrom<RawSpellings> for SeveritySpellings {
    type Error = String;

    fn try_from(r: RawSpellings) -> Result<Self, Self::Error> {
        let mut seen = BTreeMap::new();
        for (level, words) in [("critical", &r.critical), ("warning", &r.warning), ("info", &r.info)] {
            for w in words {
                if let Some(other) = seen.insert(w.trim().to_lowercase(), level) {
                    return Err(format!("severity spelling {w:?} is listed under both {other} and {level}"));
                }
            }
        }
        Ok(SeveritySpellings { critical: r.critical, warning: r.warning, info: r.info })
    }
}

/// Which side of the threshold fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub enum RuleOp {
    /// `">"`: fires above the threshold.
    Above,
    /// `"<"`: fires below the threshold.
    Below,
}

impl TryFrom<String> for RuleOp {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.trim() {
            ">" => Ok(RuleOp::Above),
            "<" => Ok(RuleOp::Below),
            _ => Err(format!("unknown op {s:?}: write \">\" (fires above the threshold) or \"<\" (below)")),
        }
    }
}

impl RuleOp {
    /// As written in the config.
    pub fn as_str(self) -> &'static str {
        match self {
            RuleOp::Above => ">",
            RuleOp::Below => "<",
        }
    }

    /// Is `value` on the firing side of `bound`? Strict, so a value exactly
    /// at the bound does not fire (and does resolve); NaN never fires.
    pub fn beyond(self, value: f64, bound: f64) -> bool {
        match self {
            RuleOp::Above => value > bound,
            RuleOp::Below => value < bound,
        }
    }
}

/// A rule's severity as the config spells it: critical, warning or info.
#[derive(Deserialize)]
#[serde(try_from = "String")]
struct RuleSeverity(Severity);

impl TryFrom<String> for RuleSeverity {
    type Error = String;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        match s.trim().to_lowercase().as_str() {
            "critical" => Ok(RuleSeverity(Severity::Critical)),
            "warning" => Ok(RuleSeverity(Severity::Warning)),
            "info" => Ok(RuleSeverity(Severity::Info)),
            _ => Err(format!("unknown severity {s:?}: write \"critical\", \"warning\" or \"info\"")),
        }
    }
}

/// One `[[rules]]` entry, complete (a built-in's missing fields filled in).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawRule")]
pub struct RuleConfig {
    /// The alertname; an entry named like a built-in rule replaces it.
    pub name: String,
    /// The sample's metric name, e.g. `cpu` or `disk_percent`.
    pub metric: String,
    /// Which side of the threshold fires.
    pub op: RuleOp,
    /// The bound the value must pass to fire.
    pub threshold: f64,
    /// Once firing, it resolves only when the value is back at or past this
    /// bound (hysteresis, so a value hovering at the threshold does not flap).
    pub clear: f64,
    /// `for`: how long the condition must hold before it fires (pending until then).
    pub for_: Duration,
    /// Critical, warning or info.
    pub severity: Severity,
    /// Added to every alert of this rule.
    pub labels: BTreeMap<String, String>,
    /// Template: `{value}`, `{threshold}`, `{metric}` and `{<label>}`.
    pub summary: String,
    /// Optional longer template, same placeholders.
    pub description: Option<String>,
    /// `false` turns the rule off (a built-in one too).
    pub enabled: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: String,
    metric: Option<String>,
    op: Option<RuleOp>,
    threshold: Option<f64>,
    clear: Option<f64>,
    #[serde(rename = "for", default, deserialize_with = "duration::rule_for_opt")]
    for_: Option<Duration>,
    severity: Option<RuleSeverity>,
    labels: Option<BTreeMap<String, String>>,
    summary: Option<String>,
    description: Option<String>,
    enabled: Option<bool>,
}

impl TryFrom<RawRule> for RuleConfig {
    type Error = String;

    fn try_from(r: RawRule) -> Result<Self, Self::Error> {
        let name = r.name.trim().to_owned();
        if name.is_empty() {
            return Err("rule name must not be empty".into());
        }
        let builtin = builtin_rules().into_iter().find(|b| b.name == name);
        let missing = |field: &str| {
            let builtins: Vec<String> = builtin_rules().into_iter().map(|b| b.name).collect();
            format!("rule {name:?} needs {field} (only built-in rules may omit it: {})", builtins.join(", "))
        };
        let base = builtin.as_ref();
        let metric = r.metric.or_else(|| base.map(|b| b.metric.clone())).ok_or_else(|| missing("metric"))?;
        if metric.trim().is_empty() {
            return Err(format!("rule {name:?}: metric must not be empty"));
        }
        let threshold = r.threshold.or(base.map(|b| b.threshold)).ok_or_else(|| missing("threshold"))?;
        // A new threshold without a clear bound means no hysteresis, rather
        // than the built-in's clear, which may sit on the wrong side of it.
        let clear = match (r.clear, r.threshold, base) {
            (Some(c), _, _) => c,
            (None, None, Some(b)) => b.clear,
            (None, _, _) => threshold,
        };
        let op = r.op.or(base.map(|b| b.op)).unwrap_or(RuleOp::Above);
        if !threshold.is_finite() || !clear.is_finite() {
            return Err(format!("rule {name:?}: threshold and clear must be finite numbers"));
        }
        if op.beyond(clear, threshold) {
            let side = if op == RuleOp::Above { "above" } else { "below" };
            return Err(format!(
                "rule {name:?}: clear ({clear}) must not be {side} threshold ({threshold}) with op \"{}\": \
                 once firing, the alert resolves when the value is back past clear",
                op.as_str()
            ));
        }
        let labels = r.labels.or_else(|| base.map(|b| b.labels.clone())).unwrap_or_default();
        for key in labels.keys() {
            if key == "alertname" || key == "severity" {
                return Err(format!("rule {name:?}: label {key:?} is set by the rule's name and severity"));
            }
            if !is_label_name(key) {
                return Err(format!("rule {name:?}: {key:?} is not a label name ([a-zA-Z_][a-zA-Z0-9_]*)"));
            }
        }
        let summary = r
            .summary
            .or_else(|| base.map(|b| b.summary.clone()))
            .unwrap_or_else(|| "{metric} is {value} (threshold {threshold})".into());
        let description = r.description.or_else(|| base.and_then(|b| b.description.clone()));
        for t in std::iter::once(&summary).chain(&description) {
            check_template(t).map_err(|e| format!("rule {name:?}: {e}"))?;
        }
        Ok(RuleConfig {
            metric,
            op,
            threshold,
            clear,
            for_: r.for_.or(base.map(|b| b.for_)).unwrap_or(Duration::ZERO),
            severity: r.severity.map(|s| s.0).or(base.map(|b| b.severity)).unwrap_or(Severity::Warning),
            labels,
            summary,
            description,
            enabled: r.enabled.unwrap_or(true),
            name,
        })
    }
}

fn is_label_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_ascii_alphabetic())
        && chars.all(|c| c == '_' || c.is_ascii_alphanumeric())
}

pub use builtin::{builtin_rules, lag_rules};

/// `[[rules]]`: the built-in rules with same-named entries replacing them in
/// place, then the other entries in file order. Names must be unique.
pub fn rules<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<RuleConfig>, D::Error> {
    let entries = Vec::<RuleConfig>::deserialize(d)?;
    let mut seen = HashSet::new();
    if let Some(dup) = entries.iter().find(|r| !seen.insert(r.name.as_str())) {
        return Err(serde::de::Error::custom(format!("rule name {:?} is used twice in [[rules]]", dup.name)));
    }
    let mut out = builtin_rules();
    for entry in entries {
        match out.iter_mut().find(|b| b.name == entry.name) {
            Some(slot) => *slot = entry,
            None => out.push(entry),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
