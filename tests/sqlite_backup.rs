//! The SQLite online backup against real database files: copied while another
//! connection keeps writing (WAL and rollback journal), verified, named by the
//! time, never over an existing file, and a corrupt copy caught and kept aside.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use opsdeck::ops::sqlite_backup::{self, BackupReport};
use rusqlite::Connection;

/// Rows in the database before the writer starts, and the size of each blob:
/// about 4.7 MiB, so the copy takes measurable time.
const INITIAL_ROWS: u64 = 300;
const BLOB_BYTES: u64 = 16 * 1024;

fn create_db(path: &Path, journal_mode: &str) {
    let conn = Connection::open(path).unwrap();
    let mode: String =
        conn.query_row(&format!("PRAGMA journal_mode = {journal_mode}"), [], |r| r.get(0)).unwrap();
    assert_eq!(mode, journal_mode.to_lowercase());
    conn.execute_batch(&format!(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {INITIAL_ROWS})
         INSERT INTO t (payload) SELECT randomblob({BLOB_BYTES}) FROM n;"
    ))
    .unwrap();
}

fn row_count(path: &Path) -> u64 {
    let conn = Connection::open(path).unwrap();
    let n: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
    n.try_into().unwrap()
}

fn page_count_and_size(conn: &Connection) -> (u64, u64) {
    let (pages, size): (i64, i64) = conn
        .query_row("SELECT * FROM pragma_page_count, pragma_page_size", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap();
    (pages.try_into().unwrap(), size.try_into().unwrap())
}

fn integrity(path: &Path) -> Vec<String> {
    let conn = Connection::open(path).unwrap();
    let mut stmt = conn.prepare("PRAGMA integrity_check").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Another connection on its own thread, inserting one blob per transaction
/// until stopped. `started` counts transactions begun, `committed` those whose
/// commit returned.
struct Writer {
    stop: Arc<AtomicBool>,
    started: Arc<AtomicU64>,
    committed: Arc<AtomicU64>,
    handle: JoinHandle<()>,
}

impl Writer {
    fn spawn(path: PathBuf) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let started = Arc::new(AtomicU64::new(0));
        let committed = Arc::new(AtomicU64::new(0));
        let handle = thread::spawn({
            let (stop, started, committed) = (stop.clone(), started.clone(), committed.clone());
            move || {
                let mut conn = Connection::open(&path).unwrap();
                // Long enough to outwait a whole copy in rollback-journal mode.
                conn.busy_timeout(Duration::from_secs(60)).unwrap();
                while !stop.load(Ordering::SeqCst) {
                    started.fetch_add(1, Ordering::SeqCst);
                    let tx = conn.transaction().unwrap();
                    tx.execute("INSERT INTO t (payload) VALUES (randomblob(?1))", [BLOB_BYTES as i64])
                        .unwrap();
                    tx.commit().unwrap();
                    committed.fetch_add(1, Ordering::SeqCst);
                    thread::sleep(Duration::from_millis(1));
                }
            }
        });
        Writer { stop, started, committed, handle }
    }

    fn wait_for_commits(&self, n: u64) -> u64 {
        let until = Instant::now() + Duration::from_secs(60);
        loop {
            let now = self.committed.load(Ordering::SeqCst);
            if now >= n {
                return now;
            }
            assert!(Instant::now() < until, "the writer committed only {now} rows in 60s");
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn stop(self) -> u64 {
        self.stop.store(true, Ordering::SeqCst);
        self.handle.join().expect("the writer thread panicked");
        self.committed.load(Ordering::SeqCst)
    }
}

/// The name the backup must have: `destination_name` at some second between
/// `before` and `after`.
fn assert_timestamped_name(
    report: &BackupReport,
    source: &Path,
    dest_dir: &Path,
    before: jiff::Timestamp,
    after: jiff::Timestamp,
) {
    assert_eq!(report.destination.parent(), Some(dest_dir));
    let name = report.destination.file_name().unwrap().to_string_lossy().into_owned();
    let candidates: Vec<String> = (before.as_second()..=after.as_second())
        .map(|s| sqlite_backup::destination_name(source, jiff::Timestamp::from_second(s).unwrap()))
        .collect();
    assert!(candidates.contains(&name), "{name} is none of {candidates:?}");
}

fn backup_while_writing(journal_mode: &str) {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("db")).unwrap();
    let source = tmp.path().join("db").join("app.db");
    let dest_dir = tmp.path().join("backups").join("nightly"); // does not exist yet
    create_db(&source, journal_mode);

    let writer = Writer::spawn(source.clone());
    let committed_before = writer.wait_for_commits(5);

    let mut lines = Vec::new();
    let before = jiff::Timestamp::now();
    let took = Instant::now();
    let report = sqlite_backup::backup(&source, &dest_dir, Duration::from_secs(30), &mut |l| lines.push(l))
        .unwrap_or_else(|e| panic!("backup in {journal_mode} mode failed: {e}"));
    let took = took.elapsed();
    let after = jiff::Timestamp::now();
    let started_by_then = writer.started.load(Ordering::SeqCst);
    let committed_by_then = writer.committed.load(Ordering::SeqCst);
    // Let the writer go on a little, so the source moves past the snapshot.
    writer.wait_for_commits(committed_by_then + 3);
    let committed_total = writer.stop();
    eprintln!(
        "{journal_mode}: {} bytes, {} pages in {took:?}; the writer committed {} rows during the backup",
        report.bytes,
        report.pages,
        committed_by_then - committed_before
    );

    // Only the copy, under its final name: no .partial, no journal.
    let name = report.destination.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(entries(&dest_dir), vec![name]);
    assert_timestamped_name(&report, &source, &dest_dir, before, after);

    assert_eq!(report.integrity, "ok");
    assert_eq!(report.bytes, fs::metadata(&report.destination).unwrap().len());
    assert!(report.bytes > INITIAL_ROWS * BLOB_BYTES, "{} bytes", report.bytes);
    assert!(report.duration <= took);
    let conn = Connection::open(&report.destination).unwrap();
    let (pages, page_size): (u64, u64) = page_count_and_size(&conn);
    drop(conn);
    assert_eq!(report.pages, pages);
    assert_eq!(report.bytes, pages * page_size);

    assert_eq!(integrity(&report.destination), vec!["ok".to_owned()]);
    // A consistent snapshot: everything committed before the call, nothing
    // from a transaction not yet begun when it returned.
    let rows = row_count(&report.destination);
    assert!(rows > INITIAL_ROWS, "{rows} rows");
    assert!(rows >= INITIAL_ROWS + committed_before, "{rows} rows, {committed_before} committed before");
    assert!(rows <= INITIAL_ROWS + started_by_then, "{rows} rows, {started_by_then} begun by the end");
    assert_eq!(row_count(&source), INITIAL_ROWS + committed_total);
    assert!(row_count(&source) > rows);

    assert_eq!(lines.len(), 3, "{lines:?}");
    assert!(lines[0].starts_with("copying ") && lines[0].contains(" pages (") && lines[0].contains("app.db"));
    assert_eq!(lines[1], "integrity_check: ok");
    assert!(lines[2].starts_with(&format!("wrote {}", report.destination.display())), "{}", lines[2]);
    assert!(lines[2].contains(" MiB, "), "{}", lines[2]);
}

#[test]
fn copies_a_wal_database_while_another_connection_writes() {
    backup_while_writing("WAL");
}

#[test]
fn copies_a_rollback_journal_database_while_another_connection_writes() {
    backup_while_writing("DELETE");
}

#[test]
fn a_missing_source_is_an_error_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("nope.db");
    let dest_dir = tmp.path().join("out");
    let mut lines = Vec::new();
    let err = sqlite_backup::backup(&source, &dest_dir, Duration::from_secs(1), &mut |l| lines.push(l))
        .unwrap_err();
    assert_eq!(err, format!("no database at {}", source.display()));
    assert!(!source.exists());
    assert!(!dest_dir.exists());
    assert!(lines.is_empty(), "{lines:?}");
}

#[test]
fn a_source_locked_past_the_deadline_is_an_error_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("app.db");
    let dest_dir = tmp.path().join("out");
    create_db(&source, "DELETE");
    let holder = Connection::open(&source).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();

    let took = Instant::now();
    let err = sqlite_backup::backup(&source, &dest_dir, Duration::from_millis(300), &mut |_| {}).unwrap_err();
    let took = took.elapsed();
    assert_eq!(err, format!("source {} stayed locked for 300ms", source.display()));
    assert!(took >= Duration::from_millis(300) && took < Duration::from_secs(5), "{took:?}");
    assert_eq!(entries(&dest_dir), Vec::<String>::new());

    holder.execute_batch("COMMIT").unwrap();
    assert_eq!(row_count(&source), INITIAL_ROWS);
}

#[test]
fn an_existing_backup_is_never_overwritten() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("app.db");
    let dest_dir = tmp.path().join("out");
    create_db(&source, "WAL");
    fs::create_dir(&dest_dir).unwrap();
    // Occupy every name the backup could pick in the next half minute.
    let now = jiff::Timestamp::now().as_second();
    for s in now - 1..now + 30 {
        let name = sqlite_backup::destination_name(&source, jiff::Timestamp::from_second(s).unwrap());
        fs::write(dest_dir.join(name), "precious").unwrap();
    }
    let before = entries(&dest_dir);

    let err = sqlite_backup::backup(&source, &dest_dir, Duration::from_secs(5), &mut |_| {}).unwrap_err();
    assert!(err.ends_with("already exists; not overwriting it"), "{err}");
    assert_eq!(entries(&dest_dir), before);
    for name in before {
        assert_eq!(fs::read_to_string(dest_dir.join(name)).unwrap(), "precious");
    }
}

/// A valid database of small rows with an index on them.
fn small_db(path: &Path, rows: u32) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch(&format!(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, s TEXT NOT NULL);
         CREATE INDEX t_s ON t (s);
         WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < {rows})
         INSERT INTO t (s) SELECT printf('row %08d', x) FROM n;"
    ))
    .unwrap();
}

/// Garbage over 64 bytes in the middle of the middle page of the file.
fn garble_middle_page(path: &Path) {
    let conn = Connection::open(path).unwrap();
    let (pages, page_size) = page_count_and_size(&conn);
    drop(conn);
    let mut bytes = fs::read(path).unwrap();
    let start = usize::try_from((pages / 2) * page_size + page_size / 2).unwrap();
    bytes[start..start + 64].fill(0xA5);
    fs::write(path, bytes).unwrap();
}

/// Garbage over the key of one entry in the index page, so the index no
/// longer matches the table: corruption that integrity_check reports as rows
/// rather than failing on.
fn garble_an_index_entry(path: &Path) {
    let conn = Connection::open(path).unwrap();
    let (_, page_size) = page_count_and_size(&conn);
    let root: i64 =
        conn.query_row("SELECT rootpage FROM sqlite_schema WHERE name = 't_s'", [], |r| r.get(0)).unwrap();
    drop(conn);
    let mut bytes = fs::read(path).unwrap();
    let page_start = usize::try_from((u64::try_from(root).unwrap() - 1) * page_size).unwrap();
    let page = &mut bytes[page_start..page_start + usize::try_from(page_size).unwrap()];
    let key = b"row 00000025";
    let at = page.windows(key.len()).position(|w| w == key).expect("the key is in the index page");
    page[at..at + key.len()].fill(0xA5);
    fs::write(path, bytes).unwrap();
}

#[test]
fn verify_says_ok_for_a_good_database() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("good.db");
    create_db(&path, "DELETE");
    assert_eq!(sqlite_backup::verify(&path), Ok("ok".to_owned()));
    assert_eq!(entries(tmp.path()), vec!["good.db".to_owned()]);
}

#[test]
fn verify_reports_the_problems_of_a_corrupted_file_and_leaves_it_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bad.db");
    small_db(&path, 50); // the index fits one page
    assert_eq!(sqlite_backup::verify(&path), Ok("ok".to_owned()));
    garble_an_index_entry(&path);
    let before = fs::read(&path).unwrap();
    let err = sqlite_backup::verify(&path).unwrap_err();
    eprintln!("{err}");
    let head = format!("{}: integrity_check found ", path.display());
    assert!(err.starts_with(&head), "{err}");
    assert!(err.contains("row 25 missing from index t_s"), "{err}");
    assert!(!err.contains('\n') && !err.contains("*** in database"), "{err}");
    assert_eq!(entries(tmp.path()), vec!["bad.db".to_owned()]);
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn verify_of_a_missing_file_is_an_error_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("gone.sqlite3");
    let err = sqlite_backup::verify(&path).unwrap_err();
    assert!(err.contains(&path.display().to_string()), "{err}");
    assert!(!path.exists());
}

#[test]
fn a_copy_that_fails_verification_is_kept_as_corrupt() {
    let tmp = tempfile::tempdir().unwrap();
    let source = tmp.path().join("app.db");
    let dest_dir = tmp.path().join("out");
    small_db(&source, 5000);
    garble_middle_page(&source); // the backup API copies pages as they are

    let mut lines = Vec::new();
    let before = jiff::Timestamp::now();
    let err = sqlite_backup::backup(&source, &dest_dir, Duration::from_secs(5), &mut |l| lines.push(l))
        .unwrap_err();
    let after = jiff::Timestamp::now();
    eprintln!("{err}");

    let names = entries(&dest_dir);
    assert_eq!(names.len(), 1, "{names:?}");
    let kept = &names[0];
    let final_name = kept.strip_suffix(".corrupt").unwrap_or_else(|| panic!("{kept} is not .corrupt"));
    let candidates: Vec<String> = (before.as_second()..=after.as_second())
        .map(|s| sqlite_backup::destination_name(&source, jiff::Timestamp::from_second(s).unwrap()))
        .collect();
    assert!(candidates.iter().any(|c| c == final_name), "{final_name} is none of {candidates:?}");
    let kept_path = dest_dir.join(kept);
    assert!(
        err.starts_with(&format!("the copy failed verification and was kept as {}: ", kept_path.display()))
    );
    assert!(err.contains(": integrity_check "), "{err}");
    assert!(!err.contains(".partial"), "{err}");
    assert_eq!(fs::metadata(&kept_path).unwrap().len(), fs::metadata(&source).unwrap().len());
    assert_eq!(lines.len(), 1, "{lines:?}");
}

#[test]
fn destination_name_is_the_stem_and_the_utc_second() {
    let at: jiff::Timestamp = "2026-11-22T20:30:00.750Z".parse().unwrap();
    let name = |p: &str| sqlite_backup::destination_name(Path::new(p), at);
    assert_eq!(name("/srv/app/app.db"), "app-20261122T203000Z.sqlite3");
    assert_eq!(name("/srv/app/app.sqlite3"), "app-20261122T203000Z.sqlite3");
    assert_eq!(name("state"), "state-20261122T203000Z.sqlite3");
    assert_eq!(name("/srv/app/app.prod.db"), "app.prod-20261122T203000Z.sqlite3");
    // An offset in the input is only another way to write the same instant.
    let local: jiff::Timestamp = "2026-11-23T01:30:00+05:00".parse().unwrap();
    assert_eq!(sqlite_backup::destination_name(Path::new("app.db"), local), "app-20261122T203000Z.sqlite3");
}
