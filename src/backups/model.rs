//! One model for every backup catalog: dump directories, restic snapshots,
//! pgBackRest backups and WAL-G base backups all become [`Backup`]s in a
//! [`Catalog`], so freshness, gaps and verification are judged one way.

use std::path::PathBuf;

use jiff::Timestamp;
use serde::Deserialize;

/// What a backup holds, in the handbooks' words. Ordered from the most to the
/// least complete, which is the order the summary shows them in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BackupType {
    /// Everything (a full dump, a full base backup, a restic snapshot).
    Full,
    /// Changes since the last full (pgBackRest `diff`).
    Differential,
    /// Changes since the last backup of any type.
    Incremental,
    /// Continuous archive: WAL segments, binlogs.
    Wal,
    /// Configuration archives.
    Config,
    /// Anything else the catalog matched.
    Other,
}

impl BackupType {
    /// Every type, in display order.
    pub const ALL: [BackupType; 6] = [
        BackupType::Full,
        BackupType::Differential,
        BackupType::Incremental,
        BackupType::Wal,
        BackupType::Config,
        BackupType::Other,
    ];

    /// The config's spelling (`full`, `incremental`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            BackupType::Full => "full",
            BackupType::Differential => "differential",
            BackupType::Incremental => "incremental",
            BackupType::Wal => "wal",
            BackupType::Config => "config",
            BackupType::Other => "other",
        }
    }

    /// A short column label.
    pub fn short(self) -> &'static str {
        match self {
            BackupType::Full => "full",
            BackupType::Differential => "diff",
            BackupType::Incremental => "incr",
            BackupType::Wal => "wal",
            BackupType::Config => "conf",
            BackupType::Other => "other",
        }
    }
}

/// A checksum a sidecar file promises for a dump file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    /// Which hash.
    pub algorithm: ChecksumAlgorithm,
    /// Lower-case hex digest as the sidecar states it.
    pub hex: String,
    /// The sidecar it was read from.
    pub sidecar: PathBuf,
}

/// Hashes sidecars come in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChecksumAlgorithm {
    /// `<file>.sha256` (sha256sum's format, or the bare digest).
    Sha256,
    /// `<file>.md5` (md5sum's format, or the bare digest).
    Md5,
}

impl ChecksumAlgorithm {
    /// `sha256` or `md5`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChecksumAlgorithm::Sha256 => "sha256",
            ChecksumAlgorithm::Md5 => "md5",
        }
    }
}

/// One backup in a catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Backup {
    /// Unique within its catalog and stable across polls: a dump file's path
    /// relative to the root, a restic snapshot id, a pgBackRest label, a WAL-G
    /// backup name. Verification results are stored under it.
    pub id: String,
    /// What it holds.
    pub kind: BackupType,
    /// When it was taken (completed): the time in a dump file's name, else its
    /// mtime; a tool's stop time.
    pub time: Timestamp,
    /// When it started, where the tool says.
    pub started: Option<Timestamp>,
    /// Bytes it takes in the store (the file, the repository's delta).
    pub size: Option<u64>,
    /// Bytes of what it backed up, where the tool says (database size).
    pub original_size: Option<u64>,
    /// A dump file's full path: what verify reads.
    pub path: Option<PathBuf>,
    /// The checksum a sidecar promises.
    pub checksum: Option<Checksum>,
    /// The host it was taken on, where the tool says.
    pub host: Option<String>,
    /// Anything else worth a line in the details (tags, paths, LSNs, WAL range).
    pub detail: Vec<(String, String)>,
    /// The tool marks this backup as failed or incomplete.
    pub error: Option<String>,
}

impl Backup {
    /// A backup with the required fields and nothing else.
    pub fn new(id: impl Into<String>, kind: BackupType, time: Timestamp) -> Backup {
        Backup {
            id: id.into(),
            kind,
            time,
            started: None,
            size: None,
            original_size: None,
            path: None,
            checksum: None,
            host: None,
            detail: Vec::new(),
            error: None,
        }
    }

    /// Whether it counts as a good backup (the tool does not flag it).
    pub fn is_good(&self) -> bool {
        self.error.is_none()
    }
}

/// A continuous archive's range (pgBackRest's WAL archive, WAL-G's WAL).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Archive {
    /// Oldest segment kept.
    pub min: Option<String>,
    /// Newest segment archived.
    pub max: Option<String>,
}

/// Everything one poll of a catalog found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Catalog {
    /// Oldest first.
    pub backups: Vec<Backup>,
    /// The continuous archive, where the tool reports one.
    pub archive: Option<Archive>,
    /// What the tool says about the catalog as a whole that is not an error
    /// but deserves a line (pgBackRest's "mixed" status, skipped files).
    pub notes: Vec<String>,
}

impl Catalog {
    /// Sort the backups oldest first (ties by id, so the order is stable).
    pub fn sort(&mut self) {
        self.backups.sort_by(|a, b| a.time.cmp(&b.time).then_with(|| a.id.cmp(&b.id)));
    }
}

/// Why a catalog could not be read, as a state an operator acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorState {
    /// The directory (or repository path) does not exist.
    Missing,
    /// It exists but cannot be read (permissions).
    Unreadable,
    /// The tool says there is no repository / stanza there.
    NoRepository,
    /// The repository is locked by another process.
    Locked,
    /// The repository password is wrong, or could not be read.
    WrongPassword,
    /// The tool answered something that is not what it documents.
    BadAnswer,
    /// The tool did not finish within the catalog's timeout.
    Timeout,
    /// The tool is not installed (not on PATH).
    ToolMissing,
    /// Anything else the tool reported.
    Failed,
}

impl ErrorState {
    /// A short label for the summary row.
    pub fn label(self) -> &'static str {
        match self {
            ErrorState::Missing => "missing",
            ErrorState::Unreadable => "unreadable",
            ErrorState::NoRepository => "no repository",
            ErrorState::Locked => "locked",
            ErrorState::WrongPassword => "wrong password",
            ErrorState::BadAnswer => "bad answer",
            ErrorState::Timeout => "timed out",
            ErrorState::ToolMissing => "tool missing",
            ErrorState::Failed => "failed",
        }
    }
}

/// A catalog that could not be read: the state and the tool's own words
/// (never a secret: passwords travel in the environment, not argv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogError {
    /// What kind of failure.
    pub state: ErrorState,
    /// The detail, one line, e.g. the tool's stderr.
    pub message: String,
}

impl CatalogError {
    /// Build one.
    pub fn new(state: ErrorState, message: impl Into<String>) -> CatalogError {
        CatalogError { state, message: message.into() }
    }
}

impl std::fmt::Display for CatalogError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.state.label(), self.message)
    }
}
