//! `[[actions]]`: config-defined command actions. Each names the kind of
//! target it applies to, an argv with `{placeholders}` (never a shell line),
//! its guard tier, preconditions, and bounds.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::duration;
use crate::ops::guard::Tier;
use crate::ops::precondition::Condition;

/// What an action can be aimed at: a row of one of the tabs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    /// A node (this host, or one of the fleet).
    Node,
    /// A process on this node (pinned by pid and start time).
    Process,
    /// An alert.
    Alert,
    /// A database replica or primary.
    Replica,
    /// A backup.
    Backup,
    /// A log source.
    Log,
    /// An Alertmanager silence.
    Silence,
}

/// One `[[actions]]` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionConfig {
    /// Unique; used in the keymap, the `:` command line and the audit trail.
    pub name: String,
    /// Shown in the action menu.
    pub label: String,
    /// The kind of row it applies to.
    pub applies_to: TargetKind,
    /// Program and arguments; `{field}` is filled from the target and `params`.
    #[serde(deserialize_with = "non_empty_argv")]
    pub argv: Vec<String>,
    /// Fixed fields for the placeholders, e.g. `{ service = "nginx" }`.
    #[serde(default)]
    pub params: BTreeMap<String, String>,
    /// Text written to the command's stdin (placeholders filled), e.g. a
    /// command for HAProxy's admin socket through socat.
    #[serde(default)]
    pub stdin: Option<String>,
    /// How much the operator must type.
    #[serde(default)]
    pub guard: Tier,
    /// Conditions over the target's live fields, all of which must hold.
    #[serde(default)]
    pub preconditions: Vec<Condition>,
    /// A failed precondition may be overridden, with a reason, audited as such.
    #[serde(default)]
    pub overridable: bool,
    /// Changes something (needs an armed session; refused in read-only mode).
    #[serde(default = "yes")]
    pub mutating: bool,
    /// Longest run before the process group is killed.
    #[serde(default = "default_timeout", deserialize_with = "duration::run_timeout")]
    pub timeout: Duration,
    /// Least time between two runs on the same target (anti-flap).
    #[serde(default, deserialize_with = "duration::cooldown_opt")]
    pub cooldown: Option<Duration>,
    /// Working directory.
    #[serde(default)]
    pub cwd: Option<PathBuf>,
    /// Extra environment (no secrets: those come with *_env / *_file / *_command).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// A key that opens this action's dialog for the selected row, e.g. `"R"`.
    /// Kept with its position so a clash with `[keys]` is reported there.
    #[serde(default)]
    pub key: Option<toml::Spanned<String>>,
}

impl TargetKind {
    /// The spelling in the config and the audit trail.
    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Node => "node",
            TargetKind::Process => "process",
            TargetKind::Alert => "alert",
            TargetKind::Replica => "replica",
            TargetKind::Backup => "backup",
            TargetKind::Log => "log",
            TargetKind::Silence => "silence",
        }
    }
}

fn yes() -> bool {
    true
}

fn default_timeout() -> Duration {
    Duration::from_secs(60)
}

fn non_empty_argv<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let argv = Vec::<String>::deserialize(d)?;
    if argv.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(serde::de::Error::custom("argv needs at least a program"));
    }
    Ok(argv)
}

impl super::sources::Named for ActionConfig {
    fn name(&self) -> &str {
        &self.name
    }
}
