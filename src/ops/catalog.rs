//! Every action opsdeck offers, config-defined and built in, in one shape:
//! what it applies to, how it is guarded, and what it executes. Later tabs add
//! their executors as `Exec` variants; the pipeline around them stays the same.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::guard::Tier;
use super::precondition::Condition;
use crate::config::Config;
use crate::config::actions::{ActionConfig, TargetKind};
use crate::config::backups::BackupKind;
use crate::config::keymap::KeySpec;
use crate::config::sources::HttpSource;

/// One action as the pipeline sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionDef {
    /// Unique name: menu, `:` line and audit trail.
    pub name: String,
    /// Shown in the menu.
    pub label: String,
    /// The kind of row it applies to.
    pub applies_to: TargetKind,
    /// How much the operator must type.
    pub guard: Tier,
    /// All must hold, now and again just before it runs.
    pub preconditions: Vec<Condition>,
    /// Any failed precondition may be overridden with a reason.
    pub overridable: bool,
    /// These preconditions (as written) may be overridden with a reason
    /// even when the others may not: a judgement the operator can make
    /// with knowledge opsdeck lacks (the old primary is fenced elsewhere).
    pub overridable_conditions: Vec<String>,
    /// Changes something: needs arming, refused in read-only mode.
    pub mutating: bool,
    /// Longest run.
    pub timeout: Duration,
    /// Least time between two runs on one target.
    pub cooldown: Option<Duration>,
    /// A key that opens it directly.
    pub key: Option<KeySpec>,
    /// The dialog asks for a comment, required whatever the tier (ack, silence).
    pub needs_reason: bool,
    /// What it does.
    pub exec: Exec,
}

/// What an action executes.
#[derive(Debug, Clone, PartialEq)]
pub enum Exec {
    /// A command from the config's argv, placeholders filled from the target.
    Command(Box<ActionConfig>),
    /// Create the maintenance flag file; its first line is the operator's reason.
    MaintenanceOn(PathBuf),
    /// Remove the maintenance flag file.
    MaintenanceOff(PathBuf),
    /// Copy the target's SQLite database with the online backup API, then verify it.
    SqliteBackup,
    /// Acknowledge the target alert in opsdeck's store.
    Ack,
    /// Create a silence in an Alertmanager (the one that reported the alert, else the first).
    Silence(Vec<HttpSource>),
    /// Expire the target silence in its Alertmanager.
    ExpireSilence(Vec<HttpSource>),
    /// A replication action on a database member (promote, read-only, replay, replica threads).
    Replication(super::replication::ReplOp),
    /// A backup action (verify, backup now, restore test) with the catalogs it may serve.
    Backup(super::backup::BackupOp, Arc<Vec<crate::config::backups::BackupSource>>),
}

impl ActionDef {
    /// Whether a typed reason may override every failing check in `checks`.
    pub fn may_override(&self, checks: &[crate::ops::audit::CheckedCondition]) -> bool {
        self.overridable
            || checks.iter().filter(|c| !c.passed).all(|c| self.overridable_conditions.contains(&c.expr))
    }

    fn from_config(a: &ActionConfig) -> ActionDef {
        ActionDef {
            name: a.name.clone(),
            label: a.label.clone(),
            applies_to: a.applies_to,
            guard: a.guard,
            preconditions: a.preconditions.clone(),
            overridable: a.overridable,
            overridable_conditions: Vec::new(),
            mutating: a.mutating,
            timeout: a.timeout,
            cooldown: a.cooldown,
            // Checked when the config was parsed.
            key: a.key.as_ref().and_then(|k| k.get_ref().parse().ok()),
            needs_reason: false,
            exec: Exec::Command(Box::new(a.clone())),
        }
    }

    /// Whether this action can be aimed at `target_kind`.
    pub fn applies(&self, kind: TargetKind) -> bool {
        self.applies_to == kind
    }

    /// Whether this action can be aimed at `target`: its kind, and for a
    /// replication action the member's engine too (`pause_replay` is not
    /// offered on a MySQL member). Menus should filter with this.
    pub fn applies_to_target(&self, target: &super::target::Target) -> bool {
        if !self.applies(target.kind) {
            return false;
        }
        match &self.exec {
            Exec::Replication(op) => match target.fields.get("kind") {
                Some(super::precondition::FieldValue::Text(kind)) => op.applies_to_kind_name(kind),
                _ => false,
            },
            Exec::Backup(op, _) => op.applies(&target.fields),
            _ => true,
        }
    }
}

fn condition(text: &str) -> Vec<Condition> {
    // Built-in conditions are literals tested below; a typo would drop one,
    // which the test catches.
    text.parse().into_iter().collect()
}

/// The built-in actions this config enables, then the config's own.
pub fn all(config: &Config) -> Vec<Arc<ActionDef>> {
    let mut out = Vec::new();
    if let Some(flag) = &config.maintenance.flag_file {
        out.push(ActionDef {
            name: "maintenance_on".into(),
            label: format!("Enter maintenance mode (create {})", flag.display()),
            applies_to: TargetKind::Node,
            // The reason becomes the flag's note, which the status bar shows.
            guard: Tier::TypeNameReason,
            preconditions: condition("maintenance == false"),
            overridable: false,
            overridable_conditions: Vec::new(),
            mutating: true,
            timeout: Duration::from_secs(10),
            cooldown: None,
            key: None,
            needs_reason: false,
            exec: Exec::MaintenanceOn(flag.clone()),
        });
        out.push(ActionDef {
            name: "maintenance_off".into(),
            label: format!("Leave maintenance mode (remove {})", flag.display()),
            applies_to: TargetKind::Node,
            guard: Tier::Confirm,
            preconditions: condition("maintenance == true"),
            overridable: false,
            overridable_conditions: Vec::new(),
            mutating: true,
            timeout: Duration::from_secs(10),
            cooldown: None,
            key: None,
            needs_reason: false,
            exec: Exec::MaintenanceOff(flag.clone()),
        });
    }
    if config.backups.iter().any(|b| b.kind == BackupKind::Sqlite) {
        out.push(ActionDef {
            name: "sqlite_backup".into(),
            label: "Back up now (SQLite online backup, then integrity_check)".into(),
            applies_to: TargetKind::Backup,
            guard: Tier::Confirm,
            preconditions: condition("exists == true"),
            overridable: false,
            overridable_conditions: Vec::new(),
            // It writes a file, never the database; still a change read-only mode must refuse.
            mutating: true,
            timeout: Duration::from_secs(30 * 60),
            cooldown: Some(Duration::from_secs(60)),
            key: None,
            needs_reason: false,
            exec: Exec::SqliteBackup,
        });
    }
    out.extend(alert_actions(config));
    out.extend(super::replication::action_defs(&config.clusters));
    out.extend(super::backup::action_defs(&config.backups));
    out.extend(config.actions.iter().map(ActionDef::from_config));
    out.into_iter().map(Arc::new).collect()
}

/// Ack, silence and expire: the Alerts tab's built-ins.
fn alert_actions(config: &Config) -> Vec<ActionDef> {
    let base = |name: &str, label: &str, applies_to, mutating, exec| ActionDef {
        name: name.into(),
        label: label.into(),
        applies_to,
        guard: Tier::Confirm,
        preconditions: Vec::new(),
        overridable: false,
        overridable_conditions: Vec::new(),
        mutating,
        timeout: Duration::from_secs(30),
        cooldown: None,
        key: None,
        needs_reason: true,
        exec,
    };
    // Local and quiet: an ack changes nothing outside opsdeck, so it needs no arming.
    let mut out = vec![ActionDef {
        preconditions: condition("state != \"resolved\""),
        ..base(
            "ack",
            "Acknowledge (local: quiet until it resolves or changes)",
            TargetKind::Alert,
            false,
            Exec::Ack,
        )
    }];
    if !config.alertmanager.is_empty() {
        let ams = config.alertmanager.clone();
        out.push(base(
            "silence",
            "Silence in Alertmanager",
            TargetKind::Alert,
            true,
            Exec::Silence(ams.clone()),
        ));
        out.push(ActionDef {
            needs_reason: false,
            ..base(
                "expire_silence",
                "Expire this silence now",
                TargetKind::Silence,
                true,
                Exec::ExpireSilence(ams),
            )
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_ins_follow_the_config() {
        let names = |c: &Config| all(c).iter().map(|d| d.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&Config::default()), ["ack"], "ack is always there");
        let mut c = Config::default();
        c.maintenance.flag_file = Some("/run/m.flag".into());
        let defs = all(&c);
        let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, ["maintenance_on", "maintenance_off", "ack"]);
        assert!(defs.iter().all(|d| d.preconditions.len() == 1), "built-in conditions parse");
    }
}
