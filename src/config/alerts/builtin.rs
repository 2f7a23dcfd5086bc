//! The rules opsdeck ships with: the handbooks' thresholds for this node,
//! replication, backups, logs, health checks and the fleet, and the
//! per-cluster replication lag rules.

use std::collections::BTreeMap;
use std::time::Duration;

use super::{RuleConfig, RuleOp};
use crate::alerts::model::Severity;

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
        // Two members taking writes fork the data; nothing waits for that.
        rule(
            "ReplicationSplitBrain",
            "replication_writable_members",
            1.0,
            1.0,
            0,
            Severity::Critical,
            "Split brain in {cluster}: {value} members take writes ({members})",
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
pub fn lag_rules(clusters: &[crate::config::clusters::Cluster]) -> Vec<RuleConfig> {
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
