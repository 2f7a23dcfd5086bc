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
    #[serde(rename = "for", default, deserialize_with = "some_duration")]
    for_: Option<Duration>,
    severity: Option<RuleSeverity>,
    labels: Option<BTreeMap<String, String>>,
    summary: Option<String>,
    description: Option<String>,
    enabled: Option<bool>,
}

fn some_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    duration::any(d).map(Some)
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

/// The handbooks' rules, on by default: CPU above 80 % for 5 minutes
/// (clears under 75), memory above 85 % for 5 minutes (clears under 80),
/// any disk above 90 % at once, critical (clears under 88).
pub fn builtin_rules() -> Vec<RuleConfig> {
    let rule = |name: &str, metric: &str, threshold, clear, for_secs, severity, summary: &str| RuleConfig {
        name: name.into(),
        metric: metric.into(),
        op: RuleOp::Above,
        threshold,
        clear,
        for_: Duration::from_secs(for_secs),
        severity,
        labels: BTreeMap::new(),
        summary: summary.into(),
        description: None,
        enabled: true,
    };
    vec![
        rule("HighCpu", "cpu", 80.0, 75.0, 300, Severity::Warning, "CPU at {value}% on {instance}"),
        rule(
            "HighMemory",
            "memory_percent",
            85.0,
            80.0,
            300,
            Severity::Warning,
            "Memory at {value}% on {instance}",
        ),
        rule(
            "DiskFull",
            "disk_percent",
            90.0,
            88.0,
            0,
            Severity::Critical,
            "Disk {mount} at {value}% on {instance}",
        ),
        // Replication (the Replication tab's samples; 1 = true, 0 = false).
        rule(
            "ReplicationStopped",
            "replication_stopped",
            0.5,
            0.5,
            0,
            Severity::Critical,
            "Replication stopped on {member} ({cluster})",
        ),
        rule(
            "ReplicationMemberDown",
            "replication_member_down",
            0.5,
            0.5,
            10,
            Severity::Critical,
            "{member} of {cluster} does not answer",
        ),
        rule(
            "ReplicationSlotInactive",
            "replication_slot_inactive",
            0.5,
            0.5,
            300,
            Severity::Warning,
            "Replication slot {slot} on {member} ({cluster}) has no consumer: WAL piles up",
        ),
        rule(
            "ReplicationSlotLost",
            "replication_slot_lost",
            0.5,
            0.5,
            0,
            Severity::Critical,
            "Replication slot {slot} on {member} ({cluster}) is lost or about to be",
        ),
        // Backups (the Backups tab's samples, per catalog).
        rule(
            "BackupStale",
            "backup_age_rpo_ratio",
            1.0,
            1.0,
            0,
            Severity::Warning,
            "Newest backup of {catalog} is {value}× its RPO old",
        ),
        rule(
            "BackupStaleCritical",
            "backup_age_rpo_ratio",
            2.0,
            2.0,
            0,
            Severity::Critical,
            "Newest backup of {catalog} is {value}× its RPO old",
        ),
        rule("BackupGap", "backup_gaps", 0.5, 0.5, 0, Severity::Warning, "{catalog} misses expected backups"),
        rule(
            "BackupSizeAnomaly",
            "backup_size_anomalies",
            0.5,
            0.5,
            0,
            Severity::Warning,
            "{catalog} has {value} backup(s) much smaller than usual",
        ),
        rule(
            "BackupRetention",
            "backup_retention",
            0.5,
            0.5,
            0,
            Severity::Warning,
            "{catalog} keeps backups past its retention",
        ),
        rule(
            "BackupVerifyFailed",
            "backup_verify_failed",
            0.5,
            0.5,
            0,
            Severity::Critical,
            "{catalog}: {value} backup(s) failed verification",
        ),
        rule(
            "BackupCatalogUnreadable",
            "backup_catalog_error",
            0.5,
            0.5,
            120,
            Severity::Warning,
            "Backup catalog {catalog} cannot be read",
        ),
        // Logs (the Logs tab's error lines per source over the last minute).
        rule(
            "LogErrors",
            "log_errors_per_minute",
            10.0,
            5.0,
            60,
            Severity::Warning,
            "{source} logs {value} errors a minute",
        ),
        // Health checks (the Metrics tab's [[health]] probes; 1 = true, 0 = false).
        // Down for 30 s: one lost probe or a restart is not an outage yet.
        rule(
            "HealthCheckDown",
            "health_check_down",
            0.5,
            0.5,
            30,
            Severity::Critical,
            "Health check {check} fails ({url})",
        ),
        rule(
            "HealthCheckSlow",
            "health_check_slow",
            0.5,
            0.5,
            60,
            Severity::Warning,
            "Health check {check} answers slowly ({url})",
        ),
        // Fleet nodes (Prometheus's up, or a [[nodes]] scrape that failed).
        // A minute: one missed scrape or an exporter restart is not a node down.
        rule(
            "NodeDown",
            "fleet_node_down",
            0.5,
            0.5,
            60,
            Severity::Critical,
            "Node {instance} is down (from {origin})",
        ),
    ]
}

/// `ReplicationLag` rules, a warning and a critical one per cluster at its
/// own `lag_warning` / `lag_critical` (handbook defaults 5 s and 60 s),
/// over that cluster's `replication_lag_seconds:<cluster>` samples. They
/// must hold for three polls, so one slow apply does not page anyone, and
/// clear at 80 % of the threshold so a lag hovering at it does not flap.
pub fn lag_rules(clusters: &[super::clusters::Cluster]) -> Vec<RuleConfig> {
    let mut out = Vec::with_capacity(clusters.len() * 2);
    for c in clusters {
        for (severity, threshold) in
            [(Severity::Warning, c.lag_warning), (Severity::Critical, c.lag_critical)]
        {
            let t = threshold.as_secs_f64();
            out.push(RuleConfig {
                name: "ReplicationLag".into(),
                metric: format!("replication_lag_seconds:{}", c.name),
                op: RuleOp::Above,
                threshold: t,
                clear: t * 0.8,
                for_: c.interval * 3,
                severity,
                labels: BTreeMap::new(),
                summary: "{member} of {cluster} lags {value} s (threshold {threshold} s)".into(),
                description: None,
                enabled: true,
            });
        }
    }
    out
}

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
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, parse};

    fn rules_of(src: &str) -> Result<Vec<RuleConfig>, String> {
        parse(src, Path::new("t.toml")).map(|c| c.rules).map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_the_builtins() {
        let c = Config::default();
        let names: Vec<&str> = c.rules.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "HighCpu",
                "HighMemory",
                "DiskFull",
                "ReplicationStopped",
                "ReplicationMemberDown",
                "ReplicationSlotInactive",
                "ReplicationSlotLost",
                "BackupStale",
                "BackupStaleCritical",
                "BackupGap",
                "BackupSizeAnomaly",
                "BackupRetention",
                "BackupVerifyFailed",
                "BackupCatalogUnreadable",
                "LogErrors",
                "HealthCheckDown",
                "HealthCheckSlow",
                "NodeDown"
            ]
        );
        assert_eq!(c.alerts.group_by, ["alertname"]);
        assert_eq!(c.alerts.severity_labels, ["severity", "priority", "level"]);
    }

    #[test]
    fn a_same_named_entry_replaces_a_builtin_and_others_add() {
        let rules = rules_of(
            "[[rules]]\nname = \"HighCpu\"\nenabled = false\n\n\
             [[rules]]\nname = \"HighLoad\"\nmetric = \"load_1\"\nthreshold = 8\nfor = \"2m\"\n\
             severity = \"critical\"\nlabels = { team = \"ops\" }\n",
        )
        .unwrap();
        let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
        let builtins: Vec<String> = builtin_rules().into_iter().map(|r| r.name).collect();
        assert_eq!(names[..builtins.len()], builtins, "built-ins first, in their order");
        assert_eq!(names[builtins.len()..], ["HighLoad"]);
        // Omitted fields of a built-in keep its values.
        assert!(!rules[0].enabled);
        assert_eq!((rules[0].threshold, rules[0].clear, rules[0].metric.as_str()), (80.0, 75.0, "cpu"));
        let load = &rules[builtins.len()];
        assert_eq!((load.op, load.threshold, load.clear), (RuleOp::Above, 8.0, 8.0));
        assert_eq!((load.for_, load.severity), (Duration::from_secs(120), Severity::Critical));
        assert_eq!(load.labels["team"], "ops");
    }

    #[test]
    fn a_new_threshold_on_a_builtin_drops_its_clear() {
        let rules = rules_of("[[rules]]\nname = \"HighCpu\"\nthreshold = 70\n").unwrap();
        assert_eq!((rules[0].threshold, rules[0].clear), (70.0, 70.0));
    }

    #[test]
    fn bad_rules_fail_at_their_position() {
        let table = [
            (
                "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\nop = \">=\"\n",
                ":5:6:",
                "unknown op \">=\"",
            ),
            (
                "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\nseverity = \"page\"\n",
                ":5:12:",
                "unknown severity \"page\"",
            ),
            (
                "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 80\nclear = 85\n",
                ":1:1:",
                "clear (85) must not be above threshold (80)",
            ),
            (
                "[[rules]]\nname = \"X\"\nmetric = \"m\"\nop = \"<\"\nthreshold = 10\nclear = 5\n",
                ":1:1:",
                "clear (5) must not be below threshold (10)",
            ),
            ("[[rules]]\nname = \"X\"\nthreshold = 1\n", ":1:1:", "rule \"X\" needs metric"),
            (
                "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\nfor = \"5x\"\n",
                ":5:7:",
                "invalid duration",
            ),
            (
                "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\nsummary = \"{value\"\n",
                ":1:1:",
                "unclosed {",
            ),
            (
                "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\nlabels = { severity = \"x\" }\n",
                ":1:1:",
                "label \"severity\" is set by",
            ),
            (
                "[[rules]]\nname = \"X\"\nmetric = \"m\"\nthreshold = 1\ncolour = 1\n",
                ":5:1:",
                "unknown field",
            ),
            ("[[rules]]\nname = \"DiskFull\"\n[[rules]]\nname = \"DiskFull\"\n", ":1:1:", "used twice"),
            (
                "[alerts.severity_spellings]\ncritical = [\"p2\"]\nwarning = [\"P2\"]\n",
                ":1:1:",
                "both critical and warning",
            ),
        ];
        for (src, position, message) in table {
            let err = rules_of(src).unwrap_err();
            let first = err.lines().next().unwrap_or_default();
            assert!(first.contains(position) && first.contains(message), "{src}\n=> {err}");
        }
    }
}
