//! What `opsdeck check` concludes from the panes it filled: one line per
//! thing checked. Thresholds are the rules' own (`[[rules]]`, built-ins
//! included), judged on the values now: a one-shot run cannot wait out a
//! rule's `for`, so a line says when its rule would wait before firing.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{Area, Line, Status};
use crate::alerts::model::{AlertState, Severity, SourceKind};
use crate::alerts::rules::{Sample, format_value, node_samples, render};
use crate::app::AppState;
use crate::backups::findings::FindingKind;
use crate::config::alerts::RuleConfig;
use crate::sources::HealthStatus;
use crate::sources::health_checks::Verdict;

/// Error lines are counted over this window, by their own time.
const LOG_WINDOW: Duration = Duration::from_secs(15 * 60);
const _: () =
    assert!(LOG_WINDOW.as_secs() <= crate::logs::rate::KEPT.as_secs(), "counts must cover the window");

/// Every source has answered once (or failed): the run can stop waiting.
/// The node needs its second sample, the first carries no CPU figure.
pub(super) fn all_answered(s: &AppState) -> bool {
    let node = s.node.as_ref().is_some_and(|n| !n.warming_up);
    // Every watched source but the state store, which a check does not open.
    let watched = s.health.iter().filter(|(name, _)| *name != crate::store::SOURCE);
    let http = watched.clone().all(|(_, h)| h.last_ok.is_some() || h.last_error.is_some());
    let nodes = s.config.nodes.iter().all(|t| s.fleet.has_report(&t.name));
    let members = s.replication.clusters.iter().flat_map(|c| &c.members);
    let replication = members.clone().all(|m| m.status.is_some() || m.error.is_some());
    let backups = s.backups.catalogs.iter().all(|c| c.catalog.is_some() || c.error.is_some());
    let checks = s.checks.checks.iter().all(|c| c.last.is_some() || c.error.is_some());
    let logs = s.logs.sources.iter().all(|l| l.answered);
    node && http && nodes && replication && backups && checks && logs
}

/// The Alertmanagers and Prometheus servers among the sources the status
/// bar watches (the state store, which a check does not open, is another).
fn alert_sources(s: &AppState) -> impl Iterator<Item = &(&'static str, crate::sources::SourceHealth)> {
    let configured =
        |name: &str| s.config.alertmanager.iter().chain(&s.config.prometheus).any(|c| c.name == name);
    s.health.iter().filter(move |(name, _)| configured(name))
}

/// Every line, unsorted.
pub(super) fn judge(s: &AppState, budget: Duration) -> Vec<Line> {
    let mut out = Vec::new();
    health(s, budget, &mut out);
    alerts(s, &mut out);
    by_rules(s, &mut out);
    fleet(s, budget, &mut out);
    unanswered(s, budget, &mut out);
    logs(s, budget, &mut out);
    out
}

fn line(area: Area, status: Status, subject: impl Into<String>, detail: impl Into<String>) -> Line {
    Line { area, status, subject: subject.into(), detail: detail.into(), rule: None }
}

fn no_answer(budget: Duration) -> String {
    format!("no answer within {}", humantime::format_duration(budget))
}

fn health(s: &AppState, budget: Duration, out: &mut Vec<Line>) {
    for c in &s.checks.checks {
        let (status, detail) = match (&c.error, c.last.as_ref().map(|(_, o)| o)) {
            (Some((_, e)), _) => (Status::Unknown, format!("cannot check: {e}")),
            (None, None) => (Status::Unknown, no_answer(budget)),
            (None, Some(o)) => {
                let took = format!("{} ms", o.latency.as_millis());
                let code = o.status.map_or_else(String::new, |c| format!("{c} "));
                match &o.verdict {
                    Verdict::Up => (Status::Ok, format!("up, {code}in {took}")),
                    Verdict::Slow => (Status::Warn, format!("slow, {code}in {took}")),
                    Verdict::Down(why) => (Status::Crit, format!("down: {why}")),
                }
            }
        };
        out.push(line(Area::Health, status, &c.name, format!("{detail} ({})", c.url)));
    }
}

/// Each Alertmanager and Prometheus, then their firing alerts (the local
/// rules' alerts are judged below, area by area, so they are not repeated).
fn alerts(s: &AppState, out: &mut Vec<Line>) {
    for (name, h) in alert_sources(s) {
        let detail = match h.status(s.now) {
            HealthStatus::Failing { error, .. } => Some(error.to_owned()),
            HealthStatus::Pending => Some("no answer".to_owned()),
            _ => None,
        };
        if let Some(detail) = detail {
            out.push(line(Area::Alerts, Status::Unknown, *name, detail));
            continue;
        }
        let from_it = s.alerts.queue.iter().filter(|a| a.seen_by.iter().any(|b| b == name));
        let (firing, quiet) = from_it.fold((0, 0), |(f, q), a| match a.state {
            AlertState::Firing => (f + 1, q),
            st if st.is_quiet() => (f, q + 1),
            _ => (f, q),
        });
        out.push(line(Area::Alerts, Status::Ok, *name, format!("answering: {firing} firing, {quiet} quiet")));
    }
    for a in s.alerts.queue.iter() {
        if a.source_kind == SourceKind::Local || a.state != AlertState::Firing {
            continue;
        }
        let status = match a.severity {
            Severity::Critical => Status::Crit,
            Severity::Warning => Status::Warn,
            Severity::Info | Severity::Unknown => Status::Ok,
        };
        let summary = a.annotations.get("summary").cloned().unwrap_or_default();
        let instance = a.labels.get("instance").map_or_else(String::new, |i| format!(" on {i}"));
        let detail = format!("{}{instance}: {summary} ({})", a.severity.as_str(), a.source);
        let mut l = line(Area::Alerts, status, &a.name, detail);
        l.rule = Some(a.name.clone());
        out.push(l);
    }
}

/// Which section a rule's metric belongs to; `None` for metrics judged elsewhere.
fn area_of(metric: &str) -> Option<Area> {
    match metric {
        // An unreadable catalog has its own line, unknown, with the reason.
        "backup_catalog_error" => None,
        m if m.starts_with("replication_") => Some(Area::Replication),
        m if m.starts_with("backup_") => Some(Area::Backups),
        // Health checks, log errors and fleet nodes have their own lines, with more to say.
        m if m.starts_with("health_check_") || m.starts_with("log_") || m.starts_with("fleet_") => None,
        _ => Some(Area::Resources),
    }
}

/// One line per series a rule reads (a mount, a member, a catalog): the
/// worst rule it breaks, or OK against the first rule that reads it.
fn by_rules(s: &AppState, out: &mut Vec<Line>) {
    let mut samples: Vec<Sample> = s.node.as_ref().map(|n| node_samples(&s.host, n)).unwrap_or_default();
    samples.extend(s.replication.samples());
    samples.extend(s.backups.samples(s.wall));
    // The per-cluster lag rules are built from [[clusters]], not listed in [[rules]].
    let lag_rules = crate::config::alerts::lag_rules(&s.config.clusters);
    let rules: Vec<&RuleConfig> = s.config.rules.iter().chain(&lag_rules).filter(|r| r.enabled).collect();
    // (metric, labels) → (value, the rules reading it)
    type Series<'a> = BTreeMap<(&'a str, &'a BTreeMap<String, String>), (f64, Vec<&'a RuleConfig>)>;
    let mut series: Series = BTreeMap::new();
    for sample in &samples {
        for rule in rules.iter().filter(|r| r.metric == sample.metric) {
            let entry =
                series.entry((sample.metric.as_str(), &sample.labels)).or_insert((sample.value, vec![]));
            entry.1.push(rule);
        }
    }
    for ((metric, labels), (value, rules)) in series {
        let Some(area) = area_of(metric) else { continue };
        let broken = rules
            .iter()
            .filter(|r| r.op.beyond(value, r.threshold))
            .max_by_key(|r| severity_rank(r.severity));
        let subject = subject(labels, metric);
        let mut l = match broken {
            Some(rule) => {
                let lookup = |key: &str| match key {
                    "value" => Some(format_value(value)),
                    "threshold" => Some(format_value(rule.threshold)),
                    "metric" => Some(metric.to_owned()),
                    _ => labels.get(key).cloned(),
                };
                let mut detail = render(&rule.summary, lookup);
                let why = member_error(s, metric, labels)
                    .map(str::to_owned)
                    .or_else(|| backup_findings(s, metric, labels));
                if let Some(why) = why {
                    detail.push_str(&format!(": {why}"));
                }
                if !rule.for_.is_zero() {
                    detail.push_str(&format!(
                        " (now; the rule waits {})",
                        humantime::format_duration(rule.for_)
                    ));
                }
                Line {
                    rule: Some(rule.name.clone()),
                    ..line(area, status_of(rule.severity), subject, detail)
                }
            }
            None => {
                let r = rules[0];
                let unit = unit(metric);
                let (value, threshold) = (format_value(value) + unit, format_value(r.threshold) + unit);
                let detail = format!("{value} (alerts {} {threshold}, {})", r.op.as_str(), r.name);
                Line { rule: Some(r.name.clone()), ..line(area, Status::Ok, subject, detail) }
            }
        };
        l.subject = l.subject.trim().to_owned();
        out.push(l);
    }
}

/// Why a member that does not answer does not: the poller's last error.
fn member_error<'a>(s: &'a AppState, metric: &str, labels: &BTreeMap<String, String>) -> Option<&'a str> {
    if metric != "replication_member_down" {
        return None;
    }
    let cluster = s.replication.clusters.iter().find(|c| Some(&c.config.name) == labels.get("cluster"))?;
    let i = cluster.config.members.iter().position(|a| Some(&a.to_string()) == labels.get("member"))?;
    cluster.members.get(i)?.error.as_deref()
}

/// What a backup rule counted, in the Backups tab's words: the catalog's
/// findings of that kind (warning or worse, as the samples count them), so
/// a failed verify says which backup and why.
fn backup_findings(s: &AppState, metric: &str, labels: &BTreeMap<String, String>) -> Option<String> {
    let kind = match metric {
        "backup_verify_failed" => FindingKind::VerifyFailed,
        "backup_gaps" => FindingKind::Gap,
        "backup_size_anomalies" => FindingKind::SizeAnomaly,
        "backup_retention" => FindingKind::Retention,
        _ => return None,
    };
    let catalog = s.backups.catalogs.iter().find(|c| Some(&c.config.name) == labels.get("catalog"))?;
    let found: Vec<&str> = catalog
        .assessment
        .iter()
        .flat_map(|a| &a.findings)
        .filter(|f| f.kind == kind && f.severity <= Severity::Warning)
        .map(|f| f.message.as_str())
        .collect();
    (!found.is_empty()).then(|| found.join("; "))
}

/// The stored verifies could not be read: every catalog's verify line is
/// blind, so the run says so rather than calling them OK.
pub(super) fn stored_checks_unreadable(error: String) -> Line {
    line(Area::Backups, Status::Unknown, "stored verifies", format!("cannot read the state store: {error}"))
}

/// `%` for percentages, `s` for durations in seconds.
fn unit(metric: &str) -> &'static str {
    match metric {
        "cpu" => "%",
        m if m.ends_with("_percent") => "%",
        m if m.ends_with("_seconds") || m.contains("_seconds:") => "s",
        _ => "",
    }
}

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Critical => 3,
        Severity::Warning => 2,
        Severity::Info => 1,
        Severity::Unknown => 0,
    }
}

fn status_of(s: Severity) -> Status {
    match s {
        Severity::Critical => Status::Crit,
        Severity::Warning => Status::Warn,
        Severity::Info | Severity::Unknown => Status::Ok,
    }
}

/// A series named by its labels (`/var`, `db2 orders`), or by its metric
/// when only this node's `instance` label sets it apart (`cpu`, `memory`).
fn subject(labels: &BTreeMap<String, String>, metric: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for key in ["check", "mount", "member", "catalog", "source", "cluster", "channel", "slot", "type"] {
        if let Some(v) = labels.get(key) {
            parts.push(v);
        }
    }
    if parts.is_empty() {
        return metric.trim_end_matches("_percent").to_owned();
    }
    parts.join(" ")
}

/// The fleet's nodes against this node's thresholds: down is critical; a
/// fleet source that failed or never answered is unknown.
fn fleet(s: &AppState, budget: Duration, out: &mut Vec<Line>) {
    let servers = s.config.fleet.servers(&s.config.prometheus).unwrap_or_default();
    for server in servers {
        let source = crate::sources::fleet::prometheus_source(&server.name);
        let failing = s.health.iter().find(|(n, _)| *n == source).and_then(|(_, h)| match h.status(s.now) {
            HealthStatus::Failing { error, .. } => Some(error.to_owned()),
            HealthStatus::Pending => Some(no_answer(budget)),
            _ => None,
        });
        if let Some(why) = failing {
            out.push(line(Area::Resources, Status::Unknown, source, why));
        }
    }
    for t in s.config.nodes.iter().filter(|t| !s.fleet.has_report(&t.name)) {
        out.push(line(Area::Resources, Status::Unknown, &t.name, no_answer(budget)));
    }
    let th = &s.config.metrics.thresholds;
    for n in s.fleet.nodes() {
        if n.up == Some(false) {
            let why = n
                .down_reason
                .clone()
                .or_else(|| s.fleet.reports.get(&n.origin).and_then(|(_, r)| r.warnings.first()).cloned());
            let detail = format!("down ({}): {}", n.origin, why.unwrap_or_else(|| "not scraped".into()));
            out.push(line(Area::Resources, Status::Crit, &n.instance, detail));
            continue;
        }
        let mut status = Status::Ok;
        let mut parts = Vec::new();
        for (label, value, threshold) in [
            ("cpu", n.cpu_percent, th.cpu),
            ("memory", n.memory_percent, th.memory),
            ("disk", n.filesystem_percent, th.disk),
        ] {
            let Some(v) = value else { continue };
            status = status.max(match threshold.level(v) {
                crate::config::Level::Ok => Status::Ok,
                crate::config::Level::Warning => Status::Warn,
                crate::config::Level::Critical => Status::Crit,
            });
            parts.push(format!("{label} {v:.0}%"));
        }
        if let Some(load) = n.load1 {
            parts.push(format!("load {load:.2}"));
        }
        out.push(line(Area::Resources, status, &n.instance, format!("{} ({})", parts.join(", "), n.origin)));
    }
}

/// Members and catalogs that never answered within the run: nobody knows.
fn unanswered(s: &AppState, budget: Duration, out: &mut Vec<Line>) {
    for c in &s.replication.clusters {
        let members = c.config.members.iter().zip(&c.members);
        for (addr, _) in members.clone().filter(|(_, m)| m.status.is_none() && m.error.is_none()) {
            let subject = format!("{addr} {}", c.config.name);
            out.push(line(Area::Replication, Status::Unknown, subject, no_answer(budget)));
        }
        // A primary that may not list its replicas: unknown, with the privilege, not "none".
        for (addr, m) in members.filter(|(_, m)| m.error.is_none()) {
            if let Some(why) = m.status.as_ref().and_then(|st| st.downstreams_unknown.as_deref()) {
                let subject = format!("{addr} {}", c.config.name);
                out.push(line(
                    Area::Replication,
                    Status::Unknown,
                    subject,
                    format!("replicas unknown: {why}"),
                ));
            }
        }
    }
    for c in s.backups.catalogs.iter().filter(|c| c.catalog.is_none()) {
        // A catalog that cannot be read could not be checked: unknown, with why.
        let why = c.error.as_ref().map_or_else(|| no_answer(budget), |e| format!("cannot read: {e}"));
        out.push(line(Area::Backups, Status::Unknown, &c.config.name, why));
    }
}

/// Per log source: error lines of the last 15 minutes by their own time,
/// as the Logs tab counts them (`logs::rate`), judged by the `LogErrors`
/// rule's per-minute threshold. Backlog lines without a time cannot be
/// placed and are not counted; lines written during the run count as read.
fn logs(s: &AppState, budget: Duration, out: &mut Vec<Line>) {
    let rule = s.config.rules.iter().find(|r| r.enabled && r.metric == "log_errors_per_minute");
    let errors = s.logs.sources.iter().map(|src| src.errors_within(LOG_WINDOW, s.wall));
    for (src, n) in s.logs.sources.iter().zip(errors) {
        let missing =
            src.note.as_deref().filter(|n| src.lines == 0 && n.ends_with("missing, waiting for it"));
        let unknown = match (&src.error, missing) {
            (Some(e), _) => Some(format!("cannot read: {e}")),
            (None, Some(note)) => Some(note.to_owned()),
            (None, None) if !src.answered => Some(format!("{} ({})", no_answer(budget), src.what)),
            _ => None,
        };
        if let Some(why) = unknown {
            out.push(line(Area::Logs, Status::Unknown, &src.name, why));
            continue;
        }
        let per_minute = n as f64 / (LOG_WINDOW.as_secs_f64() / 60.0);
        let status = match rule {
            Some(r) if r.op.beyond(per_minute, r.threshold) => status_of(r.severity),
            _ => Status::Ok,
        };
        let detail = format!("{n} error lines in the last 15 min ({})", src.what);
        out.push(Line { rule: rule.map(|r| r.name.clone()), ..line(Area::Logs, status, &src.name, detail) });
    }
}
