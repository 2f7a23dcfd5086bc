//! An online backup of a SQLite database, verified before it gets its name.
//!
//! The copy is made with SQLite's backup API from a read-only connection into
//! `<dest_dir>/<name>.partial`, checked with `PRAGMA integrity_check`, synced,
//! and only then renamed to `<name>` (never over an existing file). A copy that
//! fails the check is kept as `<name>.corrupt` for inspection; a copy that
//! fails for any other reason is removed. So a file under the final name is
//! always a complete copy that passed the check.
//!
//! Everything here blocks (file I/O, SQLite, sleeping while the source is
//! locked): call it from `tokio::task::spawn_blocking`.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

/// How long one attempt waits for a lock on the source before SQLite reports
/// it busy (and the retry loop in [`backup`] decides whether to try again).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Pause between attempts while the source stays locked.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// At most this many `integrity_check` problems are quoted in an error.
const PROBLEMS_QUOTED: usize = 3;

/// What a finished backup produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupReport {
    /// The verified copy, under its final (timestamped) name.
    pub destination: PathBuf,
    /// Size of the copy in bytes.
    pub bytes: u64,
    /// Number of database pages copied.
    pub pages: u64,
    /// Wall time from opening the source to the rename, verification included.
    pub duration: Duration,
    /// What `PRAGMA integrity_check` said about the copy: always `"ok"` here,
    /// since anything else is an error.
    pub integrity: String,
}

/// The file name a backup of `source` taken at `at` gets: the source's file
/// stem, a dash, the UTC time to the second in ISO 8601 basic format and
/// `.sqlite3`, e.g. `app-20261122T203000Z.sqlite3` for `/srv/app.db`.
pub fn destination_name(source: &Path, at: jiff::Timestamp) -> String {
    let stem = source
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "database".to_owned());
    format!("{stem}-{}.sqlite3", at.strftime("%Y%m%dT%H%M%SZ"))
}

/// Copies the SQLite database at `source` into `dest_dir` (created if
/// missing) under [`destination_name`], verifies the copy with
/// `PRAGMA integrity_check` and returns what was written.
///
/// The source is opened read-only and never created. If it stays locked by
/// other connections, the copy is retried until `deadline` has passed since
/// the call began; `deadline` bounds the waiting for locks, not the copy
/// itself. `progress` receives one human-readable line per stage.
///
/// Errors name the paths involved and SQLite's message. A copy that fails the
/// check is left as `<name>.corrupt`; any other error before the final rename
/// leaves nothing in `dest_dir` (which may have been created). After the
/// rename only syncing the directory can still fail, and the copy stays.
///
/// Blocking: call from `tokio::task::spawn_blocking`.
pub fn backup(
    source: &Path,
    dest_dir: &Path,
    deadline: Duration,
    progress: &mut dyn FnMut(String),
) -> Result<BackupReport, String> {
    let started = Instant::now();
    let src = open_source(source, deadline)?;

    // Only for the progress line: a source locked right now (or not a
    // database at all) is reported by the copy itself, with retries.
    let size_now = src
        .query_row("SELECT page_count, page_size FROM pragma_page_count, pragma_page_size", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?))
        })
        .ok();

    fs::create_dir_all(dest_dir)
        .map_err(|e| format!("cannot create backup directory {}: {e}", dest_dir.display()))?;
    let name = destination_name(source, jiff::Timestamp::now());
    let destination = dest_dir.join(&name);
    refuse_existing(&destination)?;
    let mut partial = Partial::claim(dest_dir.join(format!("{name}.partial")))?;

    progress(match size_now {
        Some((pages, page_size)) => format!(
            "copying {pages} pages ({}) from {}",
            human_bytes(u64::try_from(pages.saturating_mul(page_size)).unwrap_or(0)),
            source.display()
        ),
        None => format!("copying from {}", source.display()),
    });
    let pages = copy(&src, source, &partial.path, started, deadline, progress)?;
    drop(src);

    match check(&partial.path) {
        Ok(integrity) => progress(format!("integrity_check: {integrity}")),
        Err(problem) => {
            let corrupt = dest_dir.join(format!("{name}.corrupt"));
            return Err(match partial.rename_to(&corrupt) {
                Ok(()) => {
                    format!("the copy failed verification and was kept as {}: {problem}", corrupt.display())
                }
                Err(e) => format!("the copy failed verification ({problem}) and {e}"),
            });
        }
    }

    File::open(&partial.path)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("cannot sync {}: {e}", partial.path.display()))?;
    // `.partial` was claimed with create_new, so two backups never share it;
    // checking the final name again just before the rename therefore only
    // races with something other than an opsdeck backup creating that file.
    refuse_existing(&destination)?;
    partial.rename_to(&destination)?;
    sync_dir(dest_dir)?;

    let bytes =
        fs::metadata(&destination).map_err(|e| format!("cannot stat {}: {e}", destination.display()))?.len();
    let duration = started.elapsed();
    progress(format!(
        "wrote {} ({}, {pages} pages) in {:.1}s",
        destination.display(),
        human_bytes(bytes),
        duration.as_secs_f64()
    ));
    Ok(BackupReport { destination, bytes, pages, duration, integrity: "ok".to_owned() })
}

/// Runs `PRAGMA integrity_check` on the database file at `path` and returns
/// its verdict, `"ok"`. Any other result is an error naming the file, the
/// number of problems and the first few of them; so is a file that cannot be
/// opened or read as a database. The file is not created, renamed or changed.
///
/// Blocking: call from `tokio::task::spawn_blocking`.
pub fn verify(path: &Path) -> Result<String, String> {
    check(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// [`verify`] with errors that do not name the file.
fn check(path: &Path) -> Result<String, String> {
    // Read-write without CREATE: a copy of a WAL-mode database is itself in
    // WAL mode, and a read-only connection may be unable to set up its
    // `-wal`/`-shm` files; these vanish again when the connection closes.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(path, flags).map_err(|e| format!("cannot open it: {e}"))?;
    let rows = integrity_rows(&conn).map_err(|e| format!("integrity_check failed: {e}"))?;
    conn.close().map_err(|(_, e)| format!("cannot close it: {e}"))?;
    if let [only] = rows.as_slice()
        && only == "ok"
    {
        return Ok(only.clone());
    }
    match problems(&rows).as_slice() {
        [] => Err(format!("integrity_check returned {rows:?}")),
        problems => {
            let quoted: Vec<&str> = problems.iter().take(PROBLEMS_QUOTED).copied().collect();
            let more = problems.len().saturating_sub(PROBLEMS_QUOTED);
            Err(format!(
                "integrity_check found {} problem{}: {}{}",
                problems.len(),
                if problems.len() == 1 { "" } else { "s" },
                quoted.join("; "),
                if more > 0 { format!("; and {more} more") } else { String::new() }
            ))
        }
    }
}

/// One problem per line of `integrity_check`'s rows: a row may hold several
/// lines, the first one headed `*** in database main ***`, which is dropped.
fn problems(rows: &[String]) -> Vec<&str> {
    rows.iter()
        .flat_map(|row| row.lines())
        .map(str::trim)
        .filter(|line| !line.is_empty() && !is_database_heading(line))
        .collect()
}

/// `*** in database main ***`, which heads the problems of one database.
fn is_database_heading(line: &str) -> bool {
    line.starts_with("*** in database ") && line.ends_with("***")
}

fn integrity_rows(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    rows.collect()
}

/// Opens the source read-only, without ever creating it.
fn open_source(source: &Path, deadline: Duration) -> Result<Connection, String> {
    match fs::metadata(source) {
        Ok(meta) if meta.is_file() => {}
        Ok(_) => return Err(format!("no database at {}: not a regular file", source.display())),
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(format!("no database at {}", source.display()));
        }
        Err(e) => return Err(format!("cannot read {}: {e}", source.display())),
    }
    // No SQLITE_OPEN_CREATE: should the file vanish after the check above,
    // the open fails instead of making an empty database. No SQLITE_OPEN_URI:
    // the path is taken literally.
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let conn = Connection::open_with_flags(source, flags)
        .map_err(|e| format!("cannot open {} read-only: {e}", source.display()))?;
    conn.busy_timeout(BUSY_TIMEOUT.min(deadline))
        .map_err(|e| format!("cannot set a busy timeout on {}: {e}", source.display()))?;
    Ok(conn)
}

/// Copies every page of `src` into the (empty) file at `partial`; returns the
/// number of pages copied.
fn copy(
    src: &Connection,
    source: &Path,
    partial: &Path,
    started: Instant,
    deadline: Duration,
    progress: &mut dyn FnMut(String),
) -> Result<u64, String> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut dest = Connection::open_with_flags(partial, flags)
        .map_err(|e| format!("cannot open {}: {e}", partial.display()))?;
    let pages = {
        let backup = Backup::new(src, &mut dest).map_err(|e| {
            format!("cannot start a backup of {} into {}: {e}", source.display(), partial.display())
        })?;
        let mut said_locked = false;
        loop {
            // All pages in one step (-1), not SQLite's textbook "a few pages,
            // sleep, repeat": a step that is not the first restarts the whole
            // copy whenever another connection has written to the source since
            // the previous step, so under steady writes small steps may never
            // finish. One step reads one consistent snapshot under a single
            // read transaction. In WAL mode that does not block writers; with
            // a rollback journal a writer waits for the copy to end, at most
            // its own busy timeout. The only thing retried is getting the read
            // lock in the first place (Busy/Locked), until the deadline.
            match backup.step(-1) {
                Ok(StepResult::Done) => break,
                Ok(StepResult::More) => {}
                Ok(StepResult::Busy | StepResult::Locked) => {
                    if started.elapsed() >= deadline {
                        return Err(format!(
                            "source {} stayed locked for {}",
                            source.display(),
                            humantime::format_duration(deadline)
                        ));
                    }
                    if !said_locked {
                        said_locked = true;
                        progress(format!("{} is locked; retrying", source.display()));
                    }
                    thread::sleep(RETRY_PAUSE);
                }
                Ok(other) => return Err(format!("unexpected backup step result {other:?}")),
                Err(e) => {
                    return Err(format!(
                        "backup of {} into {} failed: {e}",
                        source.display(),
                        partial.display()
                    ));
                }
            }
        }
        u64::try_from(backup.progress().pagecount).unwrap_or(0)
    };
    dest.close().map_err(|(_, e)| format!("cannot close {}: {e}", partial.display()))?;
    Ok(pages)
}

fn refuse_existing(destination: &Path) -> Result<(), String> {
    match destination.try_exists() {
        Ok(false) => Ok(()),
        Ok(true) => Err(format!("{} already exists; not overwriting it", destination.display())),
        Err(e) => Err(format!("cannot check {}: {e}", destination.display())),
    }
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), String> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("cannot sync directory {}: {e}", dir.display()))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), String> {
    Ok(())
}

/// The `.partial` file this backup owns: claimed exclusively, removed (with
/// any SQLite side files) when dropped unless it was renamed.
struct Partial {
    path: PathBuf,
    owned: bool,
}

impl Partial {
    fn claim(path: PathBuf) -> Result<Self, String> {
        match OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(_) => Ok(Partial { path, owned: true }),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(format!(
                "{} already exists: another backup is running or one was interrupted",
                path.display()
            )),
            Err(e) => Err(format!("cannot create {}: {e}", path.display())),
        }
    }

    fn rename_to(&mut self, to: &Path) -> Result<(), String> {
        fs::rename(&self.path, to)
            .map_err(|e| format!("cannot rename {} to {}: {e}", self.path.display(), to.display()))?;
        self.owned = false;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.owned {
            return;
        }
        let _ = fs::remove_file(&self.path);
        for suffix in ["-journal", "-wal", "-shm"] {
            let mut side = self.path.clone().into_os_string();
            side.push(suffix);
            let _ = fs::remove_file(side);
        }
    }
}

/// Bytes in binary units with one decimal: `512 B`, `4.0 MiB`.
fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_uses_binary_units() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(4 * 1024 * 1024), "4.0 MiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
    }

    #[test]
    fn problems_are_one_per_line_without_the_database_heading() {
        let rows = vec![
            "*** in database main ***\nTree 2 page 6 cell 119: Rowid 5 out of order\nTree 2 page 6 cell 119: invalid page number 7"
                .to_owned(),
            "row 121 missing from index t_s".to_owned(),
        ];
        assert_eq!(
            problems(&rows),
            vec![
                "Tree 2 page 6 cell 119: Rowid 5 out of order",
                "Tree 2 page 6 cell 119: invalid page number 7",
                "row 121 missing from index t_s",
            ]
        );
        assert!(problems(&["*** in database main ***".to_owned()]).is_empty());
    }

    #[test]
    fn destination_name_falls_back_when_there_is_no_stem() {
        let at: jiff::Timestamp = "2026-11-22T20:30:00Z".parse().unwrap();
        assert_eq!(destination_name(Path::new("/"), at), "database-20261122T203000Z.sqlite3");
    }
}
