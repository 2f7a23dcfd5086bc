//! The tables that name backends for tabs 2–5. This build parses and checks
//! them so the snippets the empty tabs show are valid config; the pollers
//! that read them arrive with their tabs, which extend these tables.

use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::duration;

/// A table entry that has a name which must be unique within its table.
pub trait Named {
    /// The entry's name as written in the config.
    fn name(&self) -> &str;
}

/// `[[prometheus]]` or `[[alertmanager]]`: an HTTP API.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSource {
    /// Shown in the status bar and in every row from this source.
    pub name: String,
    /// Base URL, e.g. `http://127.0.0.1:9093`.
    pub url: String,
}

/// `[[clusters]]`: a replicated database.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// Shown as the topology's title.
    pub name: String,
    /// Which protocol to speak.
    pub kind: ClusterKind,
    /// `host:port` of every member; roles are discovered, not configured.
    pub members: Vec<String>,
}

/// The database engines the Replication tab understands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterKind {
    /// PostgreSQL streaming replication.
    Postgres,
    /// MySQL or MariaDB replication.
    Mysql,
    /// Redis primary/replica.
    Redis,
}

/// `[[backups]]`: a place backups land.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawBackupSource")]
pub struct BackupSource {
    /// Shown as the catalog section's title.
    pub name: String,
    /// How to read the catalog.
    pub kind: BackupKind,
    /// Directory, repository or stanza location (`kind = "sqlite"`: the database file).
    pub path: String,
    /// Newest backup older than this is a breach of the recovery point objective.
    pub rpo: Duration,
    /// Where copies go; required by `kind = "sqlite"`, whose online backup writes here.
    pub destination: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBackupSource {
    name: String,
    kind: BackupKind,
    path: String,
    #[serde(deserialize_with = "duration::any")]
    rpo: Duration,
    #[serde(default)]
    destination: Option<String>,
}

impl TryFrom<RawBackupSource> for BackupSource {
    type Error = String;

    fn try_from(r: RawBackupSource) -> Result<Self, Self::Error> {
        if r.kind == BackupKind::Sqlite && r.destination.as_deref().is_none_or(|d| d.trim().is_empty()) {
            return Err(format!(
                "backup {:?}: kind = \"sqlite\" needs destination = \"<directory>\"",
                r.name
            ));
        }
        Ok(BackupSource { name: r.name, kind: r.kind, path: r.path, rpo: r.rpo, destination: r.destination })
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

/// `[[logs]]`: a log file (or glob) to tail.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSource {
    /// Shown beside every line from this source.
    pub name: String,
    /// File path or glob.
    pub path: String,
}

macro_rules! named {
    ($($t:ty),*) => {$(impl Named for $t { fn name(&self) -> &str { &self.name } })*};
}
named!(HttpSource, Cluster, BackupSource, LogSource);

/// Deserialize a table array whose entries must have distinct, non-empty names.
pub fn unique_names<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Named,
{
    let items = Vec::<T>::deserialize(d)?;
    let mut seen = std::collections::HashSet::new();
    for item in &items {
        if item.name().trim().is_empty() {
            return Err(serde::de::Error::custom("name must not be empty"));
        }
        if !seen.insert(item.name()) {
            return Err(serde::de::Error::custom(format!(
                "name {:?} is used twice in this table",
                item.name()
            )));
        }
    }
    Ok(items)
}
