//! Holding a catalog to its promises: freshness against the RPO, gaps in the
//! promised cadence, backups much smaller than usual, retention kept too long
//! or too short, and failed verifications. Pure: a catalog, its policy, the
//! verification records and the time in, findings out — so every rule is
//! tested without a clock or a disk.

use std::collections::HashMap;
use std::time::Duration;

use jiff::Timestamp;

use super::model::{Backup, BackupType, Catalog};
use crate::alerts::model::Severity;
use crate::config::backups::BackupSource;

/// A gap is reported when two backups of a type are further apart than its
/// cadence times this (cron jitter and slow runs are not gaps).
const GAP_TOLERANCE: f64 = 1.5;

/// Sizes compared against the median of at most this many previous backups.
const SIZE_WINDOW: usize = 7;

/// Fewer previous sizes than this and there is no median worth comparing to.
const SIZE_MIN_HISTORY: usize = 3;

/// Without a configured retention, gaps are looked for this far back.
const DEFAULT_GAP_WINDOW: Duration = Duration::from_secs(7 * 86_400);

/// At most this many gaps are listed per type (the count is exact).
const GAPS_LISTED: usize = 3;

/// What one verification of one backup found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// When it finished.
    pub at: Timestamp,
    /// Whether the backup proved good.
    pub ok: bool,
    /// One line: what was checked, or what failed.
    pub detail: String,
    /// How long it took.
    pub duration: Duration,
}

/// Where the newest backup stands against the RPO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Freshness {
    /// Younger than 0.8 × RPO.
    Fresh,
    /// Past 0.8 × RPO: the next one is due.
    Due,
    /// Past the RPO.
    Stale,
    /// Past 2 × RPO, or no backup at all.
    Critical,
}

/// One kind of broken promise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FindingKind {
    /// The newest backup is older than the RPO.
    Stale,
    /// An expected backup is missing.
    Gap,
    /// A backup much smaller than the ones before it.
    SizeAnomaly,
    /// Kept longer than the policy says, or fewer than it promises.
    Retention,
    /// A verification failed.
    VerifyFailed,
}

impl FindingKind {
    /// Every kind, in the order findings are listed.
    pub const ALL: [FindingKind; 5] = [
        FindingKind::Stale,
        FindingKind::VerifyFailed,
        FindingKind::Gap,
        FindingKind::SizeAnomaly,
        FindingKind::Retention,
    ];

    /// A short label.
    pub fn label(self) -> &'static str {
        match self {
            FindingKind::Stale => "stale",
            FindingKind::Gap => "gap",
            FindingKind::SizeAnomaly => "size",
            FindingKind::Retention => "retention",
            FindingKind::VerifyFailed => "verify failed",
        }
    }
}

/// One broken promise, said plainly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind.
    pub kind: FindingKind,
    /// How bad.
    pub severity: Severity,
    /// One line for the operator.
    pub message: String,
    /// The backup it is about, when it is about one.
    pub backup: Option<String>,
}

/// A type's line in the summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSummary {
    /// The type.
    pub kind: BackupType,
    /// Backups of it in the catalog.
    pub count: usize,
    /// The newest good one's time.
    pub newest: Option<Timestamp>,
    /// Their total size (those whose size is known).
    pub bytes: u64,
}

/// A catalog judged.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// One entry per type present, in `BackupType` order.
    pub types: Vec<TypeSummary>,
    /// The newest good backup that counts for the RPO (any type but config).
    pub newest: Option<Timestamp>,
    /// Its age against the RPO.
    pub freshness: Freshness,
    /// Every finding, worst first.
    pub findings: Vec<Finding>,
    /// Total bytes.
    pub bytes: u64,
    /// Total backups.
    pub count: usize,
}

impl Assessment {
    /// How many findings of `kind`.
    pub fn count(&self, kind: FindingKind) -> usize {
        self.findings.iter().filter(|f| f.kind == kind).count()
    }
}

/// Judge `catalog` by `policy` at `now`, with the latest verification of each
/// backup by id (the empty id: of the whole catalog).
pub fn assess(
    policy: &BackupSource,
    catalog: &Catalog,
    verifications: &HashMap<String, Verification>,
    now: Timestamp,
) -> Assessment {
    let by_type = group_by_type(catalog);
    let types = by_type
        .iter()
        .map(|(kind, list)| TypeSummary {
            kind: *kind,
            count: list.len(),
            newest: list.iter().rev().find(|b| b.is_good()).map(|b| b.time),
            bytes: list.iter().filter_map(|b| b.size).sum(),
        })
        .collect::<Vec<_>>();
    let newest = newest_for_rpo(catalog);
    let freshness = freshness(newest, policy.rpo, now);
    let mut findings = Vec::new();
    stale(policy, newest, freshness, now, &mut findings);
    verify_failed(&by_type, verifications, &mut findings);
    for (kind, list) in &by_type {
        gaps(policy, *kind, list, now, &mut findings);
        if *kind != BackupType::Wal {
            size_anomalies(policy, list, &mut findings);
        }
        retention(policy, *kind, list, now, &mut findings);
    }
    // Worst first; within a severity, the order of FindingKind::ALL.
    findings.sort_by_key(|f| (f.severity, FindingKind::ALL.iter().position(|k| *k == f.kind)));
    Assessment {
        bytes: types.iter().map(|t| t.bytes).sum(),
        count: catalog.backups.len(),
        types,
        newest,
        freshness,
        findings,
    }
}

/// The RPO is about data: config archives do not count, unless they are all
/// the catalog holds.
fn newest_for_rpo(catalog: &Catalog) -> Option<Timestamp> {
    let good = || catalog.backups.iter().filter(|b| b.is_good());
    good()
        .filter(|b| b.kind != BackupType::Config)
        .map(|b| b.time)
        .max()
        .or_else(|| good().map(|b| b.time).max())
}

fn group_by_type(catalog: &Catalog) -> Vec<(BackupType, Vec<&Backup>)> {
    BackupType::ALL
        .iter()
        .filter_map(|kind| {
            let list: Vec<&Backup> = catalog.backups.iter().filter(|b| b.kind == *kind).collect();
            (!list.is_empty()).then_some((*kind, list))
        })
        .collect()
}

/// Age of `then` at `now`; zero when `then` is in the future (clock skew).
pub fn age(then: Timestamp, now: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(then)).unwrap_or(Duration::ZERO)
}

/// Green below 0.8 × RPO, amber below the RPO, red past it, critical past 2 × RPO.
pub fn freshness(newest: Option<Timestamp>, rpo: Duration, now: Timestamp) -> Freshness {
    let Some(t) = newest else { return Freshness::Critical };
    let ratio = age(t, now).as_secs_f64() / rpo.as_secs_f64().max(1.0);
    match ratio {
        r if r > 2.0 => Freshness::Critical,
        r if r > 1.0 => Freshness::Stale,
        r if r > 0.8 => Freshness::Due,
        _ => Freshness::Fresh,
    }
}

fn stale(
    policy: &BackupSource,
    newest: Option<Timestamp>,
    freshness: Freshness,
    now: Timestamp,
    out: &mut Vec<Finding>,
) {
    let rpo = crate::ui::format::period(policy.rpo);
    let (severity, message) = match (newest, freshness) {
        (None, _) => (Severity::Critical, format!("no backup at all (RPO {rpo})")),
        (Some(t), Freshness::Stale | Freshness::Critical) => (
            if freshness == Freshness::Critical { Severity::Critical } else { Severity::Warning },
            format!("newest backup is {} old, past the RPO of {rpo}", crate::ui::format::age(age(t, now))),
        ),
        _ => return,
    };
    out.push(Finding { kind: FindingKind::Stale, severity, message, backup: None });
}

fn verify_failed(
    by_type: &[(BackupType, Vec<&Backup>)],
    verifications: &HashMap<String, Verification>,
    out: &mut Vec<Finding>,
) {
    // A check of the whole repository (restic check, pgbackrest verify) is
    // stored under the empty id.
    if let Some(v) = verifications.get("").filter(|v| !v.ok) {
        out.push(Finding {
            kind: FindingKind::VerifyFailed,
            severity: Severity::Critical,
            message: format!("the repository check failed: {}", v.detail),
            backup: None,
        });
    }
    for (_, list) in by_type {
        let newest = list.last().map(|b| b.id.as_str());
        for b in list {
            let Some(v) = verifications.get(&b.id).filter(|v| !v.ok) else { continue };
            // A failed newest backup leaves no proven recent restore point.
            let severity = if Some(b.id.as_str()) == newest { Severity::Critical } else { Severity::Warning };
            out.push(Finding {
                kind: FindingKind::VerifyFailed,
                severity,
                message: format!("{} failed verification: {}", b.id, v.detail),
                backup: Some(b.id.clone()),
            });
        }
    }
}

/// Expected backups missing in the window the policy keeps (or a week):
/// between two backups further apart than the cadence allows, and since the
/// newest one.
fn gaps(policy: &BackupSource, kind: BackupType, list: &[&Backup], now: Timestamp, out: &mut Vec<Finding>) {
    let Some(cadence) = policy.cadence.get(&kind).copied() else { return };
    let window = policy.retention.get(&kind).copied().unwrap_or(DEFAULT_GAP_WINDOW);
    let start = now.checked_sub(jiff::SignedDuration::try_from(window).unwrap_or(jiff::SignedDuration::MAX));
    let start = start.unwrap_or(Timestamp::MIN);
    let times: Vec<Timestamp> =
        list.iter().filter(|b| b.is_good() && b.time >= start).map(|b| b.time).collect();
    let mut missing = 0u64;
    let mut listed = Vec::new();
    let mut check = |from: Timestamp, to: Timestamp| {
        let span = age(from, to).as_secs_f64();
        let step = cadence.as_secs_f64();
        if span > step * GAP_TOLERANCE {
            let n = ((span / step).round() as u64).saturating_sub(1).max(1);
            missing += n;
            if listed.len() < GAPS_LISTED {
                listed.push(format!("{} → {}", short_time(from), short_time(to)));
            }
        }
    };
    for pair in times.windows(2) {
        check(pair[0], pair[1]);
    }
    if let Some(last) = times.last() {
        check(*last, now);
    }
    if missing > 0 {
        let every = crate::ui::format::period(cadence);
        out.push(Finding {
            kind: FindingKind::Gap,
            severity: Severity::Warning,
            message: format!(
                "{missing} expected {} backup(s) missing (every {every}): {}",
                kind.as_str(),
                listed.join(", ")
            ),
            backup: None,
        });
    }
}

fn short_time(t: Timestamp) -> String {
    t.strftime("%m-%d %H:%M").to_string()
}

/// Each backup compared with the median of the ones before it.
fn size_anomalies(policy: &BackupSource, list: &[&Backup], out: &mut Vec<Finding>) {
    let sized: Vec<(&Backup, u64)> = list.iter().filter_map(|b| Some((*b, b.size?))).collect();
    for i in SIZE_MIN_HISTORY..sized.len() {
        let mut previous: Vec<u64> =
            sized[i.saturating_sub(SIZE_WINDOW)..i].iter().map(|(_, s)| *s).collect();
        previous.sort_unstable();
        let median = previous[previous.len() / 2];
        let (b, size) = sized[i];
        if median > 0 && (size as f64) < policy.min_size_ratio * median as f64 {
            out.push(Finding {
                kind: FindingKind::SizeAnomaly,
                severity: Severity::Warning,
                message: format!(
                    "{} is {} against a median of {} ({:.0}%)",
                    b.id,
                    crate::ui::format::bytes(size as f64),
                    crate::ui::format::bytes(median as f64),
                    100.0 * size as f64 / median as f64
                ),
                backup: Some(b.id.clone()),
            });
        }
    }
}

/// Backups past retention still present, or fewer than the policy keeps.
fn retention(
    policy: &BackupSource,
    kind: BackupType,
    list: &[&Backup],
    now: Timestamp,
    out: &mut Vec<Finding>,
) {
    let Some(keep) = policy.retention.get(&kind).copied() else { return };
    let expired: Vec<&&Backup> = list.iter().filter(|b| age(b.time, now) > keep).collect();
    if let Some(oldest) = expired.first() {
        out.push(Finding {
            kind: FindingKind::Retention,
            severity: Severity::Warning,
            message: format!(
                "{} {} backup(s) older than the {} retention still present (oldest {} old)",
                expired.len(),
                kind.as_str(),
                crate::ui::format::period(keep),
                crate::ui::format::age(age(oldest.time, now))
            ),
            backup: None,
        });
    }
    let Some(cadence) = policy.cadence.get(&kind).copied() else { return };
    let promised = (keep.as_secs_f64() / cadence.as_secs_f64()).floor() as usize;
    let kept: Vec<&&Backup> = list.iter().filter(|b| age(b.time, now) <= keep).collect();
    let Some(oldest_kept) = kept.first().map(|b| age(b.time, now)) else { return };
    // Short at the old end of the window (gaps inside it are reported as
    // gaps): pruning keeps less than promised, or the catalog is young —
    // opsdeck cannot tell which, so it says both, as information.
    if promised > 1 && kept.len() < promised && oldest_kept + cadence * 2 < keep {
        out.push(Finding {
            kind: FindingKind::Retention,
            severity: Severity::Info,
            message: format!(
                "only {} {} backup(s), the policy keeps {promised} (oldest {} old): pruned early, or the catalog is new",
                kept.len(),
                kind.as_str(),
                crate::ui::format::age(oldest_kept)
            ),
            backup: None,
        });
    }
}

#[cfg(test)]
mod tests;
