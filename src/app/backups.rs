//! The Backups tab's state: each catalog's last good listing with its age,
//! its last error, its assessment against the policy, the latest checks
//! (verify, restore test, backup now) from the store, and the selection —
//! a catalog row, or one backup in its drill-down list (pinned by id, so a
//! rescan that adds backups never moves the cursor to another file).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::alerts::rules::Sample;
use crate::backups::checks::{CheckKind, CheckRecord};
use crate::backups::findings::{self, Assessment, FindingKind, Verification};
use crate::backups::model::{Backup, Catalog, CatalogError};
use crate::config::backups::{BackupKind, BackupSource};
use crate::sources::backups::CatalogReport;

/// How often assessments are redone without news: ages grow by themselves.
const REASSESS_EVERY: Duration = Duration::from_secs(10);

/// One configured catalog.
#[derive(Debug, Clone)]
pub struct CatalogState {
    /// Its config.
    pub config: BackupSource,
    /// The last good listing.
    pub catalog: Option<Catalog>,
    /// When it arrived.
    pub last_ok: Option<Instant>,
    /// The last poll's error; `None` while polls work.
    pub error: Option<CatalogError>,
    /// How long the last poll took.
    pub took: Option<Duration>,
    /// The listing judged against the policy (with the latest verifications).
    pub assessment: Option<Assessment>,
    /// Latest check of each kind, by backup id ("" for the whole catalog).
    pub checks: HashMap<(String, CheckKind), Verification>,
}

impl CatalogState {
    fn new(config: BackupSource) -> CatalogState {
        CatalogState {
            config,
            catalog: None,
            last_ok: None,
            error: None,
            took: None,
            assessment: None,
            checks: HashMap::new(),
        }
    }

    /// The latest check of `kind` of `backup_id`.
    pub fn check(&self, backup_id: &str, kind: CheckKind) -> Option<&Verification> {
        self.checks.get(&(backup_id.to_owned(), kind))
    }

    /// The newest verification of anything in this catalog.
    pub fn last_verification(&self) -> Option<&Verification> {
        self.checks.iter().filter(|((_, k), _)| *k == CheckKind::Verify).map(|(_, v)| v).max_by_key(|v| v.at)
    }

    /// The newest result of `kind` for the catalog as a whole or any backup.
    pub fn last_of(&self, kind: CheckKind) -> Option<&Verification> {
        self.checks.iter().filter(|((_, k), _)| *k == kind).map(|(_, v)| v).max_by_key(|v| v.at)
    }

    /// The backups, newest first, as the drill-down lists them.
    pub fn newest_first(&self) -> impl Iterator<Item = &Backup> {
        self.catalog.iter().flat_map(|c| c.backups.iter().rev())
    }

    fn reassess(&mut self, wall: Timestamp) {
        let Some(catalog) = &self.catalog else { return };
        let verified: HashMap<String, Verification> = self
            .checks
            .iter()
            .filter(|((_, k), _)| *k == CheckKind::Verify)
            .map(|((id, _), v)| (id.clone(), v.clone()))
            .collect();
        self.assessment = Some(findings::assess(&self.config, catalog, &verified, wall));
    }
}

/// The tab.
#[derive(Debug, Clone, Default)]
pub struct BackupsPane {
    /// Every configured catalog, in config order.
    pub catalogs: Vec<CatalogState>,
    /// The selected catalog row.
    pub selected: Option<usize>,
    /// In the selected catalog's drill-down: the selected backup's id.
    pub open: Option<String>,
    /// True while the drill-down list is shown.
    pub drilled: bool,
    /// Set when the store's checks should be read again (a check ended).
    pub reload_checks: bool,
    /// Set when the pollers should rescan now (a backup or verify ended).
    pub rescan: bool,
    last_assessed: Option<Instant>,
}

impl BackupsPane {
    /// A pane for the configured catalogs, none polled yet.
    pub fn new(config: &[BackupSource]) -> BackupsPane {
        BackupsPane {
            catalogs: config.iter().cloned().map(CatalogState::new).collect(),
            ..BackupsPane::default()
        }
    }

    /// Fold in one poll.
    pub fn on_report(&mut self, report: CatalogReport, now: Instant, wall: Timestamp) {
        let Some(c) = self.catalogs.iter_mut().find(|c| c.config.name == report.catalog) else { return };
        c.took = Some(report.took);
        match report.result {
            Ok(catalog) => {
                c.catalog = Some(catalog);
                c.last_ok = Some(now);
                c.error = None;
                c.reassess(wall);
            }
            Err(e) => c.error = Some(e),
        }
    }

    /// Replace the checks with the store's latest.
    pub fn on_checks(&mut self, records: Vec<CheckRecord>, wall: Timestamp) {
        for c in &mut self.catalogs {
            c.checks.clear();
        }
        for r in records {
            if let Some(c) = self.catalogs.iter_mut().find(|c| c.config.name == r.catalog) {
                c.checks.insert((r.backup_id, r.kind), r.result);
            }
        }
        for c in &mut self.catalogs {
            c.reassess(wall);
        }
    }

    /// Once a second: ages grow, so freshness is judged again now and then.
    pub fn tick(&mut self, now: Instant, wall: Timestamp) {
        if self.last_assessed.is_some_and(|t| now.saturating_duration_since(t) < REASSESS_EVERY) {
            return;
        }
        self.last_assessed = Some(now);
        for c in &mut self.catalogs {
            c.reassess(wall);
        }
    }

    /// The selected catalog.
    pub fn selected_catalog(&self) -> Option<&CatalogState> {
        self.catalogs.get(self.selected?)
    }

    /// The selected backup in the drill-down, with its catalog.
    pub fn selected_backup(&self) -> Option<(&CatalogState, &Backup)> {
        let c = self.selected_catalog()?;
        let id = self.open.as_deref().filter(|_| self.drilled)?;
        let b = c.catalog.as_ref()?.backups.iter().find(|b| b.id == id)?;
        Some((c, b))
    }

    /// Move the cursor: over catalogs, or over backups when drilled in.
    pub fn move_by(&mut self, delta: isize) {
        if self.drilled {
            let Some(c) = self.selected_catalog() else { return };
            let ids: Vec<&str> = c.newest_first().map(|b| b.id.as_str()).collect();
            if ids.is_empty() {
                return;
            }
            let at = self.open.as_deref().and_then(|o| ids.iter().position(|i| *i == o));
            let next = at.map_or(0, |i| i.saturating_add_signed(delta).min(ids.len() - 1));
            self.open = ids.get(next).map(|s| (*s).to_owned());
            return;
        }
        let n = self.catalogs.len();
        if n == 0 {
            return;
        }
        let next = self.selected.map_or(0, |i| i.saturating_add_signed(delta).min(n - 1));
        self.selected = Some(next);
    }

    /// First or last row.
    pub fn jump(&mut self, last: bool) {
        self.move_by(if last { isize::MAX } else { isize::MIN });
    }

    /// Enter: open the selected catalog's list of backups.
    pub fn enter(&mut self) {
        if self.drilled || self.selected_catalog().is_none_or(|c| c.catalog.is_none()) {
            return;
        }
        self.drilled = true;
        let first = self.selected_catalog().and_then(|c| c.newest_first().next()).map(|b| b.id.clone());
        self.open = first;
    }

    /// Back: leave the drill-down, then the selection. Returns whether it did anything.
    pub fn back(&mut self) -> bool {
        if self.drilled {
            self.drilled = false;
            self.open = None;
            true
        } else {
            self.selected.take().is_some()
        }
    }

    /// Samples for the rule engine, labelled by `catalog` and its `kind`:
    /// `backup_age_rpo_ratio` (newest backup's age ÷ RPO; no backup at all is
    /// 1000), `backup_gaps`, `backup_size_anomalies`, `backup_retention`,
    /// `backup_verify_failed` (counts of warning-or-worse findings) and
    /// `backup_catalog_error` (1 while the catalog cannot be read).
    pub fn samples(&self, wall: Timestamp) -> Vec<Sample> {
        let mut out = Vec::new();
        for c in self.catalogs.iter().filter(|c| c.config.kind != BackupKind::Sqlite) {
            let labels = BTreeMap::from([
                ("catalog".to_owned(), c.config.name.clone()),
                ("kind".to_owned(), c.config.kind.as_str().to_owned()),
            ]);
            let sample =
                |metric: &str, value: f64| Sample { metric: metric.into(), labels: labels.clone(), value };
            // Never polled yet is no evidence either way: judge nothing.
            if c.error.is_none() && c.catalog.is_none() {
                continue;
            }
            out.push(sample("backup_catalog_error", f64::from(u8::from(c.error.is_some()))));
            let Some(a) = &c.assessment else { continue };
            let ratio = a.newest.map_or(1000.0, |t| {
                findings::age(t, wall).as_secs_f64() / c.config.rpo.as_secs_f64().max(1.0)
            });
            out.push(sample("backup_age_rpo_ratio", ratio));
            let count = |kind| {
                a.findings
                    .iter()
                    .filter(|f| f.kind == kind && f.severity <= crate::alerts::model::Severity::Warning)
                    .count() as f64
            };
            out.push(sample("backup_gaps", count(FindingKind::Gap)));
            out.push(sample("backup_size_anomalies", count(FindingKind::SizeAnomaly)));
            out.push(sample("backup_retention", count(FindingKind::Retention)));
            out.push(sample("backup_verify_failed", count(FindingKind::VerifyFailed)));
        }
        out
    }
}
