//! The TOML config: one schema for every tab, every field defaulted, unknown
//! fields rejected. Validation happens while deserializing so each error
//! carries the line and column of the value that caused it.

pub mod actions;
pub mod alerts;
pub mod backups;
pub mod clusters;
pub mod duration;
mod error;
pub mod fleet;
pub mod health_checks;
pub mod keymap;
pub mod paths;
pub mod secret;
pub mod sources;
pub mod tail;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use backups::BackupSource;
use clusters::Cluster;
pub use error::ConfigError;
pub use keymap::Keymap;
use sources::{HttpSource, LogSource, unique_names};

/// The example config shipped with opsdeck, written by `opsdeck config init`.
pub const EXAMPLE: &str = include_str!("../../config.example.toml");

/// Everything opsdeck can be told. `Config::default()` is what runs with no file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// No mutating action can run.
    pub read_only: bool,
    /// Theme name: built in (dark, light, high-contrast, mono) or a file in the themes dir.
    pub theme: String,
    /// How often pollers refresh.
    #[serde(deserialize_with = "duration::refresh")]
    pub refresh: Duration,
    /// This node's metrics.
    pub metrics: MetricsConfig,
    /// Prometheus servers.
    #[serde(deserialize_with = "unique_names")]
    pub prometheus: Vec<HttpSource>,
    /// Alertmanager instances.
    #[serde(deserialize_with = "unique_names")]
    pub alertmanager: Vec<HttpSource>,
    /// Replicated databases.
    #[serde(deserialize_with = "unique_names")]
    pub clusters: Vec<Cluster>,
    /// Backup catalogs.
    #[serde(deserialize_with = "unique_names")]
    pub backups: Vec<BackupSource>,
    /// Log files.
    #[serde(deserialize_with = "unique_names")]
    pub logs: Vec<LogSource>,
    /// How the Logs tab reads and keeps lines.
    pub tail: tail::TailConfig,
    /// HTTP health checks, shown on the Metrics tab.
    #[serde(deserialize_with = "unique_names")]
    pub health: Vec<health_checks::HealthCheck>,
    /// The node table fed by Prometheus.
    pub fleet: fleet::FleetConfig,
    /// node_exporter targets scraped directly.
    #[serde(deserialize_with = "unique_names")]
    pub nodes: Vec<fleet::NodeTarget>,
    /// Maintenance mode by flag file.
    pub maintenance: MaintenanceConfig,
    /// `--wall`: the war-room screen.
    pub wall: WallConfig,
    /// How mutating actions are guarded.
    pub guard: GuardConfig,
    /// Where the audit trail is mirrored.
    pub audit: AuditConfig,
    /// Config-defined command actions.
    #[serde(deserialize_with = "unique_names")]
    pub actions: Vec<actions::ActionConfig>,
    /// The Alerts tab: grouping and severity spellings.
    pub alerts: alerts::AlertsConfig,
    /// Local threshold rules: the built-in ones, replaced or extended by `[[rules]]`.
    #[serde(deserialize_with = "alerts::rules")]
    pub rules: Vec<alerts::RuleConfig>,
    /// Key bindings: the defaults with these entries replaced.
    pub keys: Keymap,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            read_only: false,
            theme: "dark".into(),
            refresh: Duration::from_secs(1),
            metrics: MetricsConfig::default(),
            prometheus: Vec::new(),
            alertmanager: Vec::new(),
            clusters: Vec::new(),
            backups: Vec::new(),
            logs: Vec::new(),
            tail: tail::TailConfig::default(),
            health: Vec::new(),
            fleet: fleet::FleetConfig::default(),
            nodes: Vec::new(),
            actions: Vec::new(),
            maintenance: MaintenanceConfig::default(),
            wall: WallConfig::default(),
            guard: GuardConfig::default(),
            audit: AuditConfig::default(),
            alerts: alerts::AlertsConfig::default(),
            rules: alerts::builtin_rules(),
            keys: Keymap::default(),
        }
    }
}

/// `[metrics]`: this node.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// How much history the charts keep and show.
    #[serde(deserialize_with = "duration::window")]
    pub history: Duration,
    /// Where values turn warning and critical colours.
    pub thresholds: Thresholds,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        MetricsConfig { history: Duration::from_secs(300), thresholds: Thresholds::default() }
    }
}

/// `[wall]`: what `opsdeck --wall` does on the war-room screen.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WallConfig {
    /// Time on the summary and on each tab before the next.
    #[serde(deserialize_with = "duration::wall_cycle")]
    pub cycle: Duration,
}

impl Default for WallConfig {
    fn default() -> Self {
        WallConfig { cycle: Duration::from_secs(20) }
    }
}

/// `[maintenance]`: handbook 004's flag file.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MaintenanceConfig {
    /// Present means this node is in maintenance; its first line says why.
    pub flag_file: Option<PathBuf>,
}

/// `[guard]`: arming.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardConfig {
    /// How long one press of the arm key lets mutating actions run.
    #[serde(deserialize_with = "duration::arm_window")]
    pub arm_window: Duration,
}

impl Default for GuardConfig {
    fn default() -> Self {
        GuardConfig { arm_window: Duration::from_secs(15 * 60) }
    }
}

/// `[audit]`: the trail is always in the state store; this mirrors it.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuditConfig {
    /// Append each attempt and each finish as one JSON line, for shipping elsewhere.
    pub mirror_file: Option<PathBuf>,
}

/// `[metrics.thresholds]`, in percent used. Defaults are the handbooks' numbers.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Thresholds {
    /// Total CPU busy.
    pub cpu: Threshold,
    /// Memory used (total minus available).
    pub memory: Threshold,
    /// Swap used.
    pub swap: Threshold,
    /// Each disk's space used.
    pub disk: Threshold,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            cpu: Threshold { warning: 80.0, critical: 95.0 },
            memory: Threshold { warning: 85.0, critical: 95.0 },
            swap: Threshold { warning: 50.0, critical: 80.0 },
            disk: Threshold { warning: 85.0, critical: 90.0 },
        }
    }
}

/// A value above `warning` is a warning, above `critical` critical.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, try_from = "RawThreshold")]
pub struct Threshold {
    /// Percent above which the value is a warning.
    pub warning: f64,
    /// Percent above which the value is critical.
    pub critical: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawThreshold {
    warning: f64,
    critical: f64,
}

impl TryFrom<RawThreshold> for Threshold {
    type Error = String;

    fn try_from(raw: RawThreshold) -> Result<Self, Self::Error> {
        let in_range = |v: f64| (0.0..=100.0).contains(&v);
        if !in_range(raw.warning) || !in_range(raw.critical) {
            return Err(format!(
                "thresholds are percentages: warning {} and critical {} must be within 0..=100",
                raw.warning, raw.critical
            ));
        }
        if raw.warning > raw.critical {
            return Err(format!("warning ({}) must not be above critical ({})", raw.warning, raw.critical));
        }
        Ok(Threshold { warning: raw.warning, critical: raw.critical })
    }
}

/// How far a value is from fine; also the colour it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Below the warning threshold.
    Ok,
    /// Above warning, not above critical.
    Warning,
    /// Above critical.
    Critical,
}

impl Threshold {
    /// The level of a percentage.
    pub fn level(&self, percent: f64) -> Level {
        if percent > self.critical {
            Level::Critical
        } else if percent > self.warning {
            Level::Warning
        } else {
            Level::Ok
        }
    }
}

/// Where the config came from, for the status line and `config check`.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigOrigin {
    /// Read from this file.
    File(PathBuf),
    /// No file at the default location: built-in defaults.
    Defaults { looked_at: Option<PathBuf> },
}

/// Pick the config file: `--config`, else `$OPSDECK_CONFIG`, else the platform
/// config dir. Only the last may be missing (then the defaults apply).
pub fn resolve_path(cli: Option<&Path>) -> (Option<PathBuf>, bool) {
    if let Some(p) = cli {
        return (Some(p.to_path_buf()), true);
    }
    if let Some(p) = std::env::var_os("OPSDECK_CONFIG").filter(|p| !p.is_empty()) {
        return (Some(PathBuf::from(p)), true);
    }
    (paths::config_file(), false)
}

/// Load the config the way the binary does.
pub fn load(cli: Option<&Path>) -> Result<(Config, ConfigOrigin), ConfigError> {
    let (path, required) = resolve_path(cli);
    let Some(path) = path else {
        return Ok((Config::default(), ConfigOrigin::Defaults { looked_at: None }));
    };
    match std::fs::read_to_string(&path) {
        Ok(src) => Ok((parse(&src, &path)?, ConfigOrigin::File(path))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {
            Ok((Config::default(), ConfigOrigin::Defaults { looked_at: Some(path) }))
        }
        Err(e) => Err(ConfigError::io(&path, &e)),
    }
}

/// Parse config text; `path` is only used in error messages.
pub fn parse(src: &str, path: &Path) -> Result<Config, ConfigError> {
    let config: Config = toml::from_str(src).map_err(|e| ConfigError::toml(path, src, &e))?;
    check_action_keys(&config).map_err(|(span, msg)| ConfigError::at(path, src, span, msg))?;
    if let Err(msg) = config.fleet.servers(&config.prometheus) {
        return Err(ConfigError::at(path, src, fleet_servers_span(src), msg));
    }
    Ok(config)
}

/// Where `[fleet] prometheus = [...]` is written, for an error about it.
fn fleet_servers_span(src: &str) -> std::ops::Range<usize> {
    #[derive(Deserialize)]
    struct File {
        fleet: Option<Fleet>,
    }
    #[derive(Deserialize)]
    struct Fleet {
        prometheus: Option<toml::Spanned<Vec<String>>>,
    }
    let file: Option<File> = toml::from_str(src).ok();
    file.and_then(|f| f.fleet?.prometheus).map_or(0..0, |p| p.span())
}

/// An action's `key` must parse and must not clash with `[keys]` or another action.
fn check_action_keys(config: &Config) -> Result<(), (std::ops::Range<usize>, String)> {
    let mut taken: std::collections::HashMap<keymap::KeySpec, String> = std::collections::HashMap::new();
    for a in &config.actions {
        let Some(key) = &a.key else { continue };
        let spec: keymap::KeySpec = key.get_ref().parse().map_err(|e: String| (key.span(), e))?;
        if let Some(bound) = config.keys.bound_to(spec) {
            let msg =
                format!("key \"{spec}\" of action {:?} is already bound to {}", a.name, bound.config_name());
            return Err((key.span(), msg));
        }
        if let Some(other) = taken.insert(spec, a.name.clone()) {
            return Err((
                key.span(),
                format!("key \"{spec}\" is bound to both actions {other:?} and {:?}", a.name),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_levels_are_strictly_above() {
        let t = Threshold { warning: 80.0, critical: 95.0 };
        let table = [
            (0.0, Level::Ok),
            (80.0, Level::Ok),
            (80.1, Level::Warning),
            (95.0, Level::Warning),
            (95.1, Level::Critical),
        ];
        for (v, want) in table {
            assert_eq!(t.level(v), want, "{v}");
        }
    }

    #[test]
    fn an_empty_file_is_the_defaults() {
        assert_eq!(parse("", Path::new("x.toml")).unwrap(), Config::default());
    }

    #[test]
    fn partial_tables_keep_other_defaults() {
        let c = parse("[metrics]\nhistory = \"10m\"\n", Path::new("x.toml")).unwrap();
        assert_eq!(c.metrics.history, Duration::from_secs(600));
        assert_eq!(c.metrics.thresholds, Thresholds::default());
        assert_eq!(c.refresh, Duration::from_secs(1));
    }
}
