//! `[[backups]]`: where backups land and what they promise — the RPO, how
//! often each type is taken, how long each is kept — so the Backups tab can
//! hold the catalog to it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::duration;
use super::secret::Secret;
use crate::backups::model::BackupType;

/// How often tool catalogs (restic, pgBackRest, WAL-G) are listed: each run
/// costs the tool a key derivation or a repository read.
pub const TOOL_INTERVAL: Duration = Duration::from_secs(60);

/// How often a directory catalog is rescanned (cheap: unchanged directories
/// are not read again).
pub const DIR_INTERVAL: Duration = Duration::from_secs(15);

/// How long a tool may take to list its catalog.
pub const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

/// A backup much smaller than the median of the previous ones is an anomaly
/// below this fraction of it.
pub const MIN_SIZE_RATIO: f64 = 0.5;

/// `[[backups]]`: one catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupSource {
    /// Shown as the catalog's row title; unique.
    pub name: String,
    /// How to read the catalog.
    pub kind: BackupKind,
    /// `dir`: the root; `restic`: the repository; `sqlite`: the database
    /// file; `walg`: unused (WAL-G reads its own env/config).
    pub path: String,
    /// The newest backup older than this breaches the recovery point objective.
    pub rpo: Duration,
    /// `sqlite`: where copies go.
    pub destination: Option<String>,
    /// `dir`: glob patterns relative to the root, per type.
    pub patterns: BTreeMap<BackupType, Vec<String>>,
    /// How often each type is promised (e.g. full daily, incremental hourly).
    pub cadence: BTreeMap<BackupType, Duration>,
    /// How long each type is kept.
    pub retention: BTreeMap<BackupType, Duration>,
    /// `pgbackrest`: the stanza.
    pub stanza: Option<String>,
    /// `pgbackrest` / `walg`: the tool's config file.
    pub config_file: Option<PathBuf>,
    /// Run the tool as this OS user (pgBackRest must run as the postgres user).
    pub run_as: Option<String>,
    /// `restic`: the repository password.
    pub password: Option<Secret>,
    /// Between two polls.
    pub interval: Duration,
    /// Longest one poll (one tool run) may take.
    pub timeout: Duration,
    /// A backup smaller than this fraction of the previous ones' median is an anomaly.
    pub min_size_ratio: f64,
    /// `restic`: `--read-data-subset` for verify (e.g. `"5%"`); none checks structure only.
    pub read_data_subset: Option<String>,
    /// Argv of the "backup now" action.
    pub backup_command: Option<Vec<String>>,
    /// Argv of the "restore test" action.
    pub restore_test_command: Option<Vec<String>>,
}

impl BackupSource {
    /// A catalog with the defaults for its kind; tests and the config share them.
    pub fn new(
        name: impl Into<String>,
        kind: BackupKind,
        path: impl Into<String>,
        rpo: Duration,
    ) -> BackupSource {
        let tool = !matches!(kind, BackupKind::Dir | BackupKind::Sqlite);
        BackupSource {
            name: name.into(),
            kind,
            path: path.into(),
            rpo,
            destination: None,
            patterns: BTreeMap::new(),
            cadence: BTreeMap::new(),
            retention: BTreeMap::new(),
            stanza: None,
            config_file: None,
            run_as: None,
            password: None,
            interval: if tool { TOOL_INTERVAL } else { DIR_INTERVAL },
            timeout: TOOL_TIMEOUT,
            min_size_ratio: MIN_SIZE_RATIO,
            read_data_subset: None,
            backup_command: None,
            restore_test_command: None,
        }
    }

    /// `dir`: the patterns, or every file under the root as a full backup
    /// when none are configured.
    pub fn dir_patterns(&self) -> BTreeMap<BackupType, Vec<String>> {
        if self.patterns.is_empty() {
            BTreeMap::from([(BackupType::Full, vec!["**/*".to_owned()])])
        } else {
            self.patterns.clone()
        }
    }
}

/// The backup catalogs the Backups tab understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupKind {
    /// Dump files in a directory.
    Dir,
    /// A restic repository.
    Restic,
    /// A pgBackRest stanza.
    Pgbackrest,
    /// A WAL-G storage.
    Walg,
    /// A SQLite database (`path`) copied by the online backup API into `destination`.
    Sqlite,
}

impl BackupKind {
    /// The config's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            BackupKind::Dir => "dir",
            BackupKind::Restic => "restic",
            BackupKind::Pgbackrest => "pgbackrest",
            BackupKind::Walg => "walg",
            BackupKind::Sqlite => "sqlite",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackupSource {
    name: String,
    kind: BackupKind,
    #[serde(default)]
    path: Option<String>,
    #[serde(deserialize_with = "duration::backup_age")]
    rpo: Duration,
    #[serde(default)]
    destination: Option<String>,
    #[serde(default)]
    patterns: BTreeMap<BackupType, Patterns>,
    #[serde(default, deserialize_with = "durations")]
    cadence: BTreeMap<BackupType, Duration>,
    #[serde(default, deserialize_with = "durations")]
    retention: BTreeMap<BackupType, Duration>,
    #[serde(default)]
    stanza: Option<String>,
    #[serde(default)]
    config_file: Option<PathBuf>,
    #[serde(default)]
    run_as: Option<String>,
    #[serde(default)]
    password_env: Option<String>,
    #[serde(default)]
    password_file: Option<PathBuf>,
    #[serde(default)]
    password_command: Option<Vec<String>>,
    #[serde(default, deserialize_with = "duration::rescan_opt")]
    interval: Option<Duration>,
    #[serde(default, deserialize_with = "duration::run_timeout_opt")]
    timeout: Option<Duration>,
    #[serde(default)]
    min_size_ratio: Option<f64>,
    #[serde(default)]
    read_data_subset: Option<String>,
    #[serde(default)]
    backup_command: Option<Vec<String>>,
    #[serde(default)]
    restore_test_command: Option<Vec<String>>,
}

/// One pattern or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum Patterns {
    One(String),
    Many(Vec<String>),
}

/// A duration per backup type, each held to `duration::BACKUP_AGE` (above
/// zero, at most 10 years) where it is written.
fn durations<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<BackupType, Duration>, D::Error> {
    let raw = BTreeMap::<BackupType, duration::BackupAge>::deserialize(d)?;
    Ok(raw.into_iter().map(|(k, v)| (k, v.0)).collect())
}

fn non_empty_argv(what: &str, argv: Option<Vec<String>>) -> Result<Option<Vec<String>>, String> {
    match argv {
        Some(a) if a.first().is_none_or(|p| p.trim().is_empty()) => Err(format!(
            "{what} must be a list starting with the program, e.g. [\"/usr/local/bin/backup.sh\"]"
        )),
        other => Ok(other),
    }
}

impl<'de> Deserialize<'de> for BackupSource {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = RawBackupSource::deserialize(d)?;
        BackupSource::try_from(raw).map_err(serde::de::Error::custom)
    }
}

impl TryFrom<RawBackupSource> for BackupSource {
    type Error = String;

    fn try_from(r: RawBackupSource) -> Result<Self, Self::Error> {
        let name = r.name;
        let needs = |what: &str| format!("backup {name:?}: kind = \"{}\" needs {what}", r.kind.as_str());
        let path = r.path.filter(|p| !p.trim().is_empty());
        let path = match r.kind {
            BackupKind::Dir => path.ok_or_else(|| needs("path = \"<backup directory>\""))?,
            BackupKind::Restic => path.ok_or_else(|| needs("path = \"<repository>\""))?,
            BackupKind::Sqlite => path.ok_or_else(|| needs("path = \"<database file>\""))?,
            BackupKind::Pgbackrest | BackupKind::Walg => path.unwrap_or_default(),
        };
        if r.kind == BackupKind::Sqlite && r.destination.as_deref().is_none_or(|d| d.trim().is_empty()) {
            return Err(needs("destination = \"<directory>\""));
        }
        if r.kind == BackupKind::Pgbackrest && r.stanza.as_deref().is_none_or(|s| s.trim().is_empty()) {
            return Err(needs("stanza = \"<stanza>\""));
        }
        if !r.patterns.is_empty() && r.kind != BackupKind::Dir {
            return Err(format!("backup {name:?}: patterns apply to kind = \"dir\" only"));
        }
        let mut patterns = BTreeMap::new();
        for (kind, p) in r.patterns {
            let list = match p {
                Patterns::One(s) => vec![s],
                Patterns::Many(v) => v,
            };
            for glob in &list {
                globset::Glob::new(glob)
                    .map_err(|e| format!("backup {name:?}: patterns.{}: {e}", kind.as_str()))?;
            }
            patterns.insert(kind, list);
        }
        let password = Secret::from_fields("password", r.password_env, r.password_file, r.password_command)
            .map_err(|e| format!("backup {name:?}: {e}"))?;
        if r.kind == BackupKind::Restic && password.is_none() {
            return Err(needs("one of password_env, password_file or password_command"));
        }
        let ratio = r.min_size_ratio.unwrap_or(MIN_SIZE_RATIO);
        if !(0.0..=1.0).contains(&ratio) {
            return Err(format!("backup {name:?}: min_size_ratio must be between 0 and 1, got {ratio}"));
        }
        let mut source = BackupSource::new(name, r.kind, path, r.rpo);
        source.destination = r.destination;
        source.patterns = patterns;
        source.cadence = r.cadence;
        source.retention = r.retention;
        source.stanza = r.stanza;
        source.config_file = r.config_file;
        source.run_as = r.run_as.filter(|u| !u.trim().is_empty());
        source.password = password;
        source.interval = r.interval.unwrap_or(source.interval).max(Duration::from_secs(1));
        source.timeout = r.timeout.unwrap_or(source.timeout).max(Duration::from_millis(100));
        source.min_size_ratio = ratio;
        source.read_data_subset = r.read_data_subset;
        source.backup_command = non_empty_argv("backup_command", r.backup_command)?;
        source.restore_test_command = non_empty_argv("restore_test_command", r.restore_test_command)?;
        Ok(source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<BackupSource, String> {
        toml::from_str::<BackupSource>(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn a_dir_catalog_with_patterns_cadence_and_retention() {
        let b = parse(
            r#"
name = "mysql"
kind = "dir"
path = "/data/backup/mysql"
rpo = "1h"
cadence = { full = "1d", incremental = "1h" }
retention = { full = "30d", incremental = "7d" }
[patterns]
full = "full/*.sql.gz"
incremental = ["incr/*.xb.zst", "incr/*.xb.gz"]
"#,
        )
        .unwrap();
        assert_eq!(b.kind, BackupKind::Dir);
        assert_eq!(b.patterns[&BackupType::Incremental].len(), 2);
        assert_eq!(b.cadence[&BackupType::Full], Duration::from_secs(86_400));
        assert_eq!(b.retention[&BackupType::Incremental], Duration::from_secs(7 * 86_400));
        assert_eq!(b.interval, DIR_INTERVAL);
    }

    #[test]
    fn each_kind_names_what_it_lacks() {
        let cases = [
            ("kind = \"dir\"", "needs path"),
            ("kind = \"restic\"\npath = \"/r\"", "password_env"),
            ("kind = \"pgbackrest\"", "needs stanza"),
            ("kind = \"sqlite\"\npath = \"/a.db\"", "needs destination"),
            (
                "kind = \"restic\"\npath = \"/r\"\npassword_env = \"P\"\npatterns = { full = \"*\" }",
                "kind = \"dir\" only",
            ),
            ("kind = \"dir\"\npath = \"/d\"\npatterns = { full = \"a[\" }", "patterns.full"),
            ("kind = \"dir\"\npath = \"/d\"\ncadence = { full = \"0s\" }", "allowed 1s to 10years"),
            ("kind = \"dir\"\npath = \"/d\"\nretention = { full = \"11y\" }", "allowed 1s to 10years"),
            ("kind = \"dir\"\npath = \"/d\"\nmin_size_ratio = 2.0", "between 0 and 1"),
            ("kind = \"dir\"\npath = \"/d\"\nbackup_command = []", "starting with the program"),
        ];
        for (body, want) in cases {
            let text = format!("name = \"b\"\nrpo = \"1h\"\n{body}\n");
            let err = parse(&text).expect_err(body);
            assert!(err.contains(want), "{body}: {err}");
        }
    }

    #[test]
    fn tools_get_their_defaults() {
        let b = parse(
            "name = \"pg\"\nkind = \"pgbackrest\"\nstanza = \"main\"\nrun_as = \"postgres\"\nrpo = \"15m\"\n",
        )
        .unwrap();
        assert_eq!((b.interval, b.timeout), (TOOL_INTERVAL, TOOL_TIMEOUT));
        assert_eq!(b.run_as.as_deref(), Some("postgres"));
        assert_eq!(b.path, "");
        let d = BackupSource::new("d", BackupKind::Dir, "/d", Duration::from_secs(60));
        assert_eq!(d.dir_patterns()[&BackupType::Full], vec!["**/*".to_owned()]);
    }
}
