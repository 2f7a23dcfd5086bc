//! Which rows of the current tab an action can be aimed at, and finding a
//! pinned target again by identity in fresh data (never by row index).

use crate::config::backups::BackupKind;
use crate::ops::target::Target;
use crate::sources::maintenance::MaintenanceState;
use crate::ui::Tab;

use super::AppState;

impl AppState {
    /// The targets the current tab offers: this node and the selected
    /// process on Metrics, the selected catalog on Backups.
    pub fn tab_targets(&self) -> Vec<Target> {
        match self.tab {
            Tab::Metrics => {
                let mut out = vec![self.node_target()];
                let selected = self.processes.selected_row().and_then(|row| self.processes.rows.get(row));
                if let (Some(&i), Some(node)) = (selected, &self.node)
                    && let Some(p) = node.processes.get(i)
                {
                    out.push(Target::process(p));
                }
                out
            }
            Tab::Backups => {
                let file = self
                    .backups
                    .selected_backup()
                    .and_then(|(c, b)| crate::ops::backup::file_target(&c.config.name, b));
                file.into_iter().chain(self.backups.selected.and_then(|i| self.backup_target(i))).collect()
            }
            Tab::Alerts => self.alerts.selected_alert().map(Target::alert).into_iter().collect(),
            Tab::Replication => self.replication_target().into_iter().collect(),
            Tab::Logs => Vec::new(),
        }
    }

    /// The pinned target as the latest data shows it, or `None` if it is gone
    /// or now has another identity.
    pub fn find_target(&self, pinned: &Target) -> Option<Target> {
        let found = match pinned.kind {
            crate::config::actions::TargetKind::Node => Some(self.node_target()),
            crate::config::actions::TargetKind::Process => {
                let pid = pinned.fields.get("pid").map(ToString::to_string)?;
                let node = self.node.as_ref()?;
                node.processes.iter().find(|p| p.pid.to_string() == pid).map(Target::process)
            }
            crate::config::actions::TargetKind::Backup => match &pinned.probe {
                crate::ops::target::Probe::BackupFile { catalog, backup, .. } => self
                    .backups
                    .catalogs
                    .iter()
                    .find(|c| &c.config.name == catalog)
                    .and_then(|c| c.catalog.as_ref()?.backups.iter().find(|b| &b.id == backup))
                    .and_then(|b| crate::ops::backup::file_target(catalog, b)),
                _ => (0..self.config.backups.len())
                    .filter_map(|i| self.backup_target(i))
                    .find(|t| t.id == pinned.id),
            },
            crate::config::actions::TargetKind::Alert => match pinned.fields.get("fingerprint") {
                Some(crate::ops::precondition::FieldValue::Text(fp)) => {
                    self.alerts.queue.by_fingerprint(fp).map(Target::alert)
                }
                _ => None,
            },
            crate::config::actions::TargetKind::Replica => self.replication_target(),
            crate::config::actions::TargetKind::Silence => self
                .alerts
                .active_silences()
                .into_iter()
                .map(|(src, s)| Target::silence(src, s))
                .find(|t| t.id == pinned.id),
            _ => None,
        };
        found.filter(|t| t.id == pinned.id)
    }

    fn node_target(&self) -> Target {
        let flag = self.config.maintenance.flag_file.clone().map(|path| {
            let on = matches!(self.maintenance, Some(MaintenanceState::On { .. }));
            (path, on)
        });
        Target::node(&self.host, self.node.as_deref(), flag)
    }

    /// The selected database member, with the live facts its actions'
    /// preconditions read, from every member's latest poll.
    fn replication_target(&self) -> Option<Target> {
        let (cluster, index) = self.replication.selected_member()?;
        let statuses: Vec<_> = cluster
            .config
            .members
            .iter()
            .zip(&cluster.members)
            .map(|(addr, m)| {
                let latest = match (&m.error, &m.status) {
                    (Some(e), _) => Err(e.clone()),
                    (None, Some(s)) => Ok(s.clone()),
                    (None, None) => Err("not polled yet".to_owned()),
                };
                (addr.clone(), latest)
            })
            .collect();
        let addr = cluster.config.members.get(index)?;
        let fields = crate::ops::replication::member_fields(&cluster.config, addr, &statuses);
        Some(Target::db_member(&cluster.config, addr, fields))
    }

    /// A catalog as a target: a SQLite database for its online backup, any
    /// other catalog for verify, backup now and restore test.
    fn backup_target(&self, index: usize) -> Option<Target> {
        let b = self.config.backups.get(index)?;
        match (b.kind, &b.destination) {
            (BackupKind::Sqlite, Some(dest)) => Some(Target::sqlite_database(&b.name, &b.path, dest)),
            (BackupKind::Sqlite, None) => None,
            _ => {
                let state = self.backups.catalogs.get(index);
                let count = state.and_then(|c| c.catalog.as_ref()).map(|c| c.backups.len());
                let readable = state.is_some_and(|c| c.error.is_none() && c.catalog.is_some());
                Some(crate::ops::backup::catalog_target(b, count, readable))
            }
        }
    }
}
