//! Directory catalogs: dump files under a root matched by glob patterns per
//! type. Rescans are incremental: a directory whose mtime has not changed is
//! not read again (its entries cannot have changed), and only its files
//! modified in the last few minutes are stat'ed again, since a dump still
//! being written grows in place without touching its directory.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;
use std::time::{Duration, SystemTime};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use jiff::Timestamp;
use regex::Regex;

use crate::backups::model::{
    Backup, BackupType, Catalog, CatalogError, Checksum, ChecksumAlgorithm, ErrorState,
};
use crate::config::backups::BackupSource;

/// Files modified this recently are stat'ed on every scan, changed directory
/// or not: they may still be being written.
const RECENT: Duration = Duration::from_secs(600);

/// A directory modified this close to its last read is read again: a change
/// within the same timestamp tick would otherwise go unseen.
const MTIME_SLACK: Duration = Duration::from_secs(2);

/// Deeper than this is not a backup layout; it also bounds a runaway tree.
const MAX_DEPTH: usize = 16;

/// At most this many unreadable subdirectories are named in the notes.
const NOTES_MAX: usize = 5;

/// Sidecar suffixes and the hash each promises.
const SIDECARS: [(&str, ChecksumAlgorithm); 4] = [
    (".sha256", ChecksumAlgorithm::Sha256),
    (".sha256sum", ChecksumAlgorithm::Sha256),
    (".md5", ChecksumAlgorithm::Md5),
    (".md5sum", ChecksumAlgorithm::Md5),
];

/// What the last scan cost, for the benchmark and the details pane.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Directories whose entries were listed.
    pub dirs_read: usize,
    /// Directories whose cached entries were reused.
    pub dirs_reused: usize,
    /// Files stat'ed.
    pub files_stated: usize,
}

#[derive(Debug, Clone)]
struct FileMeta {
    name: OsString,
    size: u64,
    mtime: SystemTime,
}

#[derive(Debug, Clone)]
struct CachedDir {
    mtime: SystemTime,
    read_at: SystemTime,
    files: Vec<FileMeta>,
    subdirs: Vec<OsString>,
}

/// A directory catalog and what it remembers between scans.
#[derive(Debug)]
pub struct DirCatalog {
    root: PathBuf,
    types: Vec<(BackupType, GlobSet)>,
    dirs: HashMap<PathBuf, CachedDir>,
    sidecars: HashMap<PathBuf, (SystemTime, Option<Checksum>)>,
    /// What the last scan cost.
    pub stats: ScanStats,
}

impl DirCatalog {
    /// A catalog for `source` (its root and patterns); nothing is read yet.
    pub fn new(source: &BackupSource) -> Result<DirCatalog, String> {
        let mut types = Vec::new();
        for (kind, patterns) in source.dir_patterns() {
            let mut set = GlobSetBuilder::new();
            for p in &patterns {
                // `*` stays within one directory; `**` crosses them.
                let glob =
                    GlobBuilder::new(p).literal_separator(true).build().map_err(|e| format!("{p}: {e}"))?;
                set.add(glob);
            }
            types.push((kind, set.build().map_err(|e| e.to_string())?));
        }
        Ok(DirCatalog {
            root: PathBuf::from(&source.path),
            types,
            dirs: HashMap::new(),
            sidecars: HashMap::new(),
            stats: ScanStats::default(),
        })
    }

    /// Scan the tree (incrementally after the first time) and build the catalog.
    pub fn scan(&mut self) -> Result<Catalog, CatalogError> {
        let now = SystemTime::now();
        self.stats = ScanStats::default();
        match fs::metadata(&self.root) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(CatalogError::new(
                    ErrorState::Missing,
                    format!("{} is not a directory", self.root.display()),
                ));
            }
            Err(e) => return Err(root_error(&self.root, &e)),
        }
        let mut notes = Vec::new();
        let mut seen = Vec::new();
        let mut stack = vec![(PathBuf::new(), 0usize)];
        while let Some((rel, depth)) = stack.pop() {
            match self.visit(&rel, now) {
                Ok(dir) => {
                    if depth < MAX_DEPTH {
                        stack.extend(dir.subdirs.iter().map(|s| (rel.join(s), depth + 1)));
                    }
                    seen.push(rel);
                }
                Err(e) if rel.as_os_str().is_empty() => return Err(root_error(&self.root, &e)),
                Err(e) => {
                    if notes.len() < NOTES_MAX {
                        notes.push(format!(
                            "cannot read {}: {}",
                            self.root.join(&rel).display(),
                            short_io(&e)
                        ));
                    }
                }
            }
        }
        // Forget directories that are gone, so the cache never outgrows the tree.
        let keep: std::collections::HashSet<&PathBuf> = seen.iter().collect();
        self.dirs.retain(|k, _| keep.contains(k));
        let mut catalog = Catalog { notes, ..Catalog::default() };
        for rel in &seen {
            self.collect(rel, &mut catalog.backups);
        }
        catalog.sort();
        Ok(catalog)
    }

    /// Read one directory, or reuse what was read when it has not changed.
    fn visit(&mut self, rel: &Path, now: SystemTime) -> std::io::Result<&CachedDir> {
        let abs = self.root.join(rel);
        let mtime = fs::metadata(&abs)?.modified()?;
        let stats = &mut self.stats;
        if let Some(cached) = self
            .dirs
            .get_mut(rel)
            .filter(|c| c.mtime == mtime && c.read_at.duration_since(mtime).is_ok_and(|d| d > MTIME_SLACK))
        {
            stats.dirs_reused += 1;
            for f in cached.files.iter_mut().filter(|f| now.duration_since(f.mtime).is_ok_and(|d| d < RECENT))
            {
                stats.files_stated += 1;
                if let Ok(m) = fs::metadata(abs.join(&f.name)) {
                    f.size = m.len();
                    f.mtime = m.modified().unwrap_or(f.mtime);
                }
            }
        } else {
            self.stats.dirs_read += 1;
            let mut files = Vec::new();
            let mut subdirs = Vec::new();
            for entry in fs::read_dir(&abs)? {
                let Ok(entry) = entry else { continue };
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_dir() {
                    subdirs.push(entry.file_name());
                    continue;
                }
                // Symlinks are followed for files only (a linked directory could loop).
                self.stats.files_stated += 1;
                let Ok(meta) = fs::metadata(entry.path()) else { continue };
                if meta.is_file() {
                    let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    files.push(FileMeta { name: entry.file_name(), size: meta.len(), mtime });
                }
            }
            self.dirs.insert(rel.to_path_buf(), CachedDir { mtime, read_at: now, files, subdirs });
        }
        self.dirs.get(rel).ok_or_else(|| std::io::Error::other("directory cache lost"))
    }

    /// The backups in one (already visited) directory.
    fn collect(&mut self, rel: &Path, out: &mut Vec<Backup>) {
        let Some(dir) = self.dirs.get(rel) else { return };
        let names: std::collections::HashSet<&OsString> = dir.files.iter().map(|f| &f.name).collect();
        let mut found = Vec::new();
        for f in &dir.files {
            let name = f.name.to_string_lossy();
            if SIDECARS.iter().any(|(suffix, _)| name.ends_with(suffix)) {
                continue;
            }
            let rel_path = rel.join(&f.name);
            let rel_str = rel_path.to_string_lossy().replace('\\', "/");
            let Some(kind) = self.types.iter().find(|(_, set)| set.is_match(&rel_str)).map(|(k, _)| *k)
            else {
                continue;
            };
            let mtime = Timestamp::try_from(f.mtime).unwrap_or(Timestamp::UNIX_EPOCH);
            let mut b = Backup::new(rel_str, kind, time_from_name(&name, mtime).unwrap_or(mtime));
            b.size = Some(f.size);
            b.path = Some(self.root.join(&rel_path));
            let sidecar = SIDECARS.iter().find_map(|(suffix, algo)| {
                let side = OsString::from(format!("{name}{suffix}"));
                names.contains(&side).then(|| (self.root.join(rel).join(side), *algo, name.to_string()))
            });
            found.push((b, sidecar));
        }
        for (mut b, sidecar) in found {
            if let Some((path, algo, name)) = sidecar {
                b.checksum = self.sidecar(&path, &name, algo);
            }
            out.push(b);
        }
    }

    /// A sidecar's checksum, read again only when the sidecar changed.
    fn sidecar(&mut self, path: &Path, file_name: &str, algo: ChecksumAlgorithm) -> Option<Checksum> {
        let mtime = fs::metadata(path).and_then(|m| m.modified()).ok()?;
        if let Some((seen, sum)) = self.sidecars.get(path)
            && *seen == mtime
        {
            return sum.clone();
        }
        let sum = crate::backups::verify::read_sidecar(path, file_name, algo).ok();
        self.sidecars.insert(path.to_path_buf(), (mtime, sum.clone()));
        sum
    }
}

fn root_error(root: &Path, e: &std::io::Error) -> CatalogError {
    let state = match e.kind() {
        ErrorKind::NotFound => ErrorState::Missing,
        ErrorKind::PermissionDenied => ErrorState::Unreadable,
        _ => ErrorState::Unreadable,
    };
    CatalogError::new(state, format!("{}: {}", root.display(), short_io(e)))
}

/// An io error without the "(os error N)" tail.
fn short_io(e: &std::io::Error) -> String {
    let s = e.to_string();
    s.split(" (os error").next().unwrap_or(&s).to_lowercase()
}

/// `20261122`, `2026-11-22`, optionally followed by a time (`_030000`,
/// `T03:00:00`, `-0300`) and `Z`.
static NAME_TIME: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?x)(?:^|[^0-9])
          (?P<y>20\d{2})(?P<sep>-?)(?P<mo>\d{2})-?(?P<d>\d{2})
          (?:[T_.\ -]?(?P<h>\d{2})[:-]?(?P<mi>\d{2})(?:[:-]?(?P<s>\d{2}))?)?
          (?P<z>Z)?
          (?:[^0-9]|$)",
    )
    .ok()
});

/// The time a file name states, in this machine's time zone unless it ends
/// in `Z`. A name with a date only takes the file's mtime when that falls on
/// the same day (the dump ran at 03:00, not at midnight), else midnight.
pub fn time_from_name(name: &str, mtime: Timestamp) -> Option<Timestamp> {
    let caps = NAME_TIME.as_ref()?.captures(name)?;
    let num = |k: &str| caps.name(k).and_then(|m| m.as_str().parse::<i8>().ok());
    let year = caps.name("y")?.as_str().parse::<i16>().ok()?;
    let date = jiff::civil::Date::new(year, num("mo")?, num("d")?).ok()?;
    let tz = if caps.name("z").is_some() { jiff::tz::TimeZone::UTC } else { jiff::tz::TimeZone::system() };
    let Some(hour) = num("h") else {
        let same_day = mtime.to_zoned(tz.clone()).date() == date;
        return if same_day { Some(mtime) } else { date.to_zoned(tz).ok().map(|z| z.timestamp()) };
    };
    let time = jiff::civil::Time::new(hour, num("mi")?, num("s").unwrap_or(0), 0).ok()?;
    date.to_datetime(time).to_zoned(tz).ok().map(|z| z.timestamp())
}

#[cfg(test)]
mod tests;
