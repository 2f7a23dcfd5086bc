//! opsdeck's own threshold alerts over its own samples, the way Prometheus
//! evaluates an alerting rule: one state machine per rule and series
//! (label set), pending while the condition has held for less than `for`,
//! then firing; once firing it resolves only when the value is back past the
//! rule's `clear` bound (hysteresis), so a value hovering at the threshold
//! does not flap.
//!
//! The engine knows no metric names: tabs turn what they measure into
//! `Sample`s (`node_samples` for this node; replication lag, backup age and
//! log error rates later) and rules name the metric they watch.
//!
//! A firing rule quiets a milder rule on the same metric, direction and
//! series (`BackupStaleCritical` over `BackupStale`, a cluster's critical
//! `ReplicationLag` over its warning), as an Alertmanager inhibit rule
//! would: the milder alert stays listed as inhibited, and comes back as it
//! was when the worse one resolves, because its own state machine keeps
//! running underneath.
//!
//! `starts_at` of a local alert is when its condition began to hold (the
//! start of pending), for pending and firing alerts alike, as Prometheus's
//! `activeAt`: the age column then says how long the problem has lasted,
//! and a Prometheus alert for the same series sorts and merges alike.

use std::collections::{BTreeMap, HashMap};

use jiff::{SignedDuration, Timestamp};

use super::model::{Alert, AlertState, SourceKind, fingerprint};
use crate::config::alerts::RuleConfig;
use crate::model::metrics::NodeSample;

/// The source name of local alerts.
pub const SOURCE: &str = "local";

/// One measured value of one series.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// What was measured, e.g. `cpu`, `disk_percent`.
    pub metric: String,
    /// Which series: `instance`, `mount`, ...
    pub labels: BTreeMap<String, String>,
    /// The value.
    pub value: f64,
}

/// This node's samples: `cpu` (percent busy; absent while the first reading
/// warms up), `memory_percent`, `swap_percent`, `load_1`, and
/// `disk_percent{mount, device}` per file system, all with `instance = host`.
pub fn node_samples(host: &str, s: &NodeSample) -> Vec<Sample> {
    let sample = |metric: &str, value: f64, extra: &[(&str, &str)]| {
        let mut labels = BTreeMap::from([("instance".to_owned(), host.to_owned())]);
        labels.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        Sample { metric: metric.to_owned(), labels, value }
    };
    let mut out = Vec::with_capacity(4 + s.disks.len());
    if !s.warming_up {
        out.push(sample("cpu", f64::from(s.cpu_total), &[]));
    }
    out.push(sample("memory_percent", s.memory.percent(), &[]));
    out.push(sample("swap_percent", s.swap.percent(), &[]));
    out.push(sample("load_1", s.load[0], &[]));
    for d in &s.disks {
        out.push(sample("disk_percent", d.used_percent(), &[("mount", &d.mount), ("device", &d.device)]));
    }
    out
}

/// Where one series of one rule stands; inactive series are not stored.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    /// The condition holds since `since`; `for` has not passed yet.
    Pending { since: Timestamp },
    /// Firing; the condition began to hold at `since`.
    Firing { since: Timestamp },
}

#[derive(Debug, Clone)]
struct Series {
    phase: Phase,
    value: f64,
}

/// Evaluates the enabled rules and remembers each series' state between calls.
#[derive(Debug, Clone)]
pub struct RuleEngine {
    rules: Vec<(RuleConfig, SignedDuration)>,
    /// Per rule (same index): active series by their sample labels.
    series: Vec<HashMap<BTreeMap<String, String>, Series>>,
}

impl RuleEngine {
    /// An engine for `rules` as `Config::rules` holds them (built-ins already
    /// merged in); disabled rules are dropped.
    pub fn new(rules: &[RuleConfig]) -> RuleEngine {
        let rules: Vec<_> = rules
            .iter()
            .filter(|r| r.enabled)
            .map(|r| (r.clone(), SignedDuration::try_from(r.for_).unwrap_or(SignedDuration::MAX)))
            .collect();
        let series = rules.iter().map(|_| HashMap::new()).collect();
        RuleEngine { rules, series }
    }

    /// The rules being evaluated.
    pub fn rules(&self) -> impl Iterator<Item = &RuleConfig> {
        self.rules.iter().map(|(r, _)| r)
    }

    /// Step every state machine with `samples`, the *complete* current set
    /// (a series missing from it resolves, as an unmounted disk should: keep
    /// each producer's latest samples and pass their union). Returns every
    /// pending, firing and inhibited alert, in rule order then label order.
    pub fn evaluate(&mut self, now: Timestamp, samples: &[Sample]) -> Vec<Alert> {
        self.step(now, samples);
        let mut out = Vec::new();
        for (i, (rule, _)) in self.rules.iter().enumerate() {
            let mut series: Vec<_> = self.series[i].iter().collect();
            series.sort_by(|a, b| a.0.cmp(b.0));
            for (labels, s) in series {
                let mut alert = to_alert(rule, labels, s);
                if let Some(by) = self.inhibitor(i, labels) {
                    alert.state = AlertState::Inhibited;
                    alert.inhibited_by = vec![by.to_owned()];
                }
                out.push(alert);
            }
        }
        out
    }

    /// The name of a firing rule that is worse than rule `i` on the same
    /// metric, direction and series, if any.
    fn inhibitor(&self, i: usize, labels: &BTreeMap<String, String>) -> Option<&str> {
        let (rule, _) = &self.rules[i];
        self.rules.iter().zip(&self.series).find_map(|((other, _), active)| {
            let worse = other.metric == rule.metric && other.op == rule.op && other.severity < rule.severity;
            let firing = || matches!(active.get(labels), Some(Series { phase: Phase::Firing { .. }, .. }));
            (worse && firing()).then_some(other.name.as_str())
        })
    }

    /// Advance every series' state machine to `now`.
    fn step(&mut self, now: Timestamp, samples: &[Sample]) {
        for ((rule, hold), active) in self.rules.iter().zip(&mut self.series) {
            let mut next = HashMap::with_capacity(active.len());
            for s in samples.iter().filter(|s| s.metric == rule.metric) {
                let phase = match active.get(&s.labels).map(|prev| prev.phase) {
                    None if rule.op.beyond(s.value, rule.threshold) => Some(if hold.is_zero() {
                        Phase::Firing { since: now }
                    } else {
                        Phase::Pending { since: now }
                    }),
                    None => None,
                    // While pending the threshold itself decides: dropping
                    // back simply ends it, nothing has fired.
                    Some(Phase::Pending { since }) if rule.op.beyond(s.value, rule.threshold) => {
                        Some(if now.duration_since(since) >= *hold {
                            Phase::Firing { since }
                        } else {
                            Phase::Pending { since }
                        })
                    }
                    Some(Phase::Pending { .. }) => None,
                    // Firing: resolves only once back at or past `clear`.
                    Some(firing @ Phase::Firing { .. }) => {
                        rule.op.beyond(s.value, rule.clear).then_some(firing)
                    }
                };
                if let Some(phase) = phase {
                    next.insert(s.labels.clone(), Series { phase, value: s.value });
                }
            }
            // Series absent from `samples` are not carried over: resolved.
            *active = next;
        }
    }
}

fn to_alert(rule: &RuleConfig, series: &BTreeMap<String, String>, s: &Series) -> Alert {
    let mut labels = series.clone();
    labels.extend(rule.labels.iter().map(|(k, v)| (k.clone(), v.clone())));
    labels.insert("alertname".into(), rule.name.clone());
    labels.insert("severity".into(), rule.severity.as_str().into());
    let (state, since) = match s.phase {
        Phase::Pending { since } => (AlertState::Pending, since),
        Phase::Firing { since } => (AlertState::Firing, since),
    };
    let value = format_value(s.value);
    let lookup = |key: &str| match key {
        "value" => Some(value.clone()),
        "threshold" => Some(format_value(rule.threshold)),
        "metric" => Some(rule.metric.clone()),
        _ => labels.get(key).cloned(),
    };
    let mut annotations = BTreeMap::from([("summary".to_owned(), render(&rule.summary, lookup))]);
    if let Some(d) = &rule.description {
        annotations.insert("description".into(), render(d, lookup));
    }
    Alert {
        source: SOURCE.into(),
        source_kind: SourceKind::Local,
        fingerprint: fingerprint(&labels),
        name: rule.name.clone(),
        severity: rule.severity,
        state,
        annotations: annotations.into(),
        starts_at: Some(since),
        ends_at: None,
        value: Some(value),
        generator_url: None,
        silenced_by: Vec::new(),
        inhibited_by: Vec::new(),
        seen_by: vec![SOURCE.into()],
        labels: labels.into(),
    }
}

/// A value as people read it: `93`, `93.5`, `1.25`, `0.004` (about three
/// significant digits, trailing zeros dropped).
pub fn format_value(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let decimals = match v.abs() {
        a if a >= 100.0 || a == 0.0 => 0,
        a if a >= 10.0 => 1,
        a if a >= 1.0 => 2,
        _ => 3,
    };
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { &s };
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

/// Fill `{name}` placeholders from `lookup`; `{{` and `}}` are literal
/// braces. An unknown name stays as written, so a missing label is visible.
pub fn render(template: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
        } else if let (true, Some(end)) = (tail.starts_with('{'), tail.find('}')) {
            let key = &tail[1..end];
            match lookup(key.trim()) {
                Some(v) => out.push_str(&v),
                None => out.push_str(&tail[..=end]),
            }
            rest = &tail[end + 1..];
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    out
}

/// Reject a template whose braces do not pair up (checked at config load).
pub fn check_template(template: &str) -> Result<(), String> {
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('}') {
            return Err(format!("unmatched }} in template {template:?} (write }}}} for a literal brace)"));
        }
        match tail.find('}') {
            Some(end) if !tail[1..end].contains('{') && !tail[1..end].trim().is_empty() => {
                rest = &tail[end + 1..]
            }
            _ => {
                return Err(format!("unclosed {{ in template {template:?} (write {{{{ for a literal brace)"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
