//! Following real files while they are written, renamed, truncated, deleted and
//! re-created, by the sync `Follower` (deterministic steps) and by the async
//! `follow` driver against a real writer process that reopens its log on
//! SIGHUP, as logrotate's postrotate makes daemons do.
//!
//! No sleep stands for readiness: every wait polls with a deadline.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use opsdeck::logs::follow::{
    FollowEvent, FollowOptions, FollowTarget, Follower, RawLine, follow, tail_lines,
};
use tempfile::TempDir;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// How long any wait may take: generous, the suite runs on loaded machines.
const DEADLINE: Duration = Duration::from_secs(30);

fn numbered(i: usize) -> String {
    format!("line {i:07} the quick brown fox jumps over the lazy dog\n")
}

fn append(path: &Path, range: std::ops::Range<usize>) {
    let mut file = OpenOptions::new().create(true).append(true).open(path).expect("open for append");
    let text: String = range.map(numbered).collect();
    file.write_all(text.as_bytes()).expect("append");
}

/// The number in a `numbered` line.
fn number(line: &RawLine) -> usize {
    let text = std::str::from_utf8(&line.bytes).expect("test lines are UTF-8");
    text.split(' ')
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not a numbered line: {text}"))
}

fn lines_of(events: &[FollowEvent]) -> Vec<RawLine> {
    events
        .iter()
        .filter_map(|event| match event {
            FollowEvent::Lines(lines) | FollowEvent::Backlog(lines) => Some(lines.clone()),
            _ => None,
        })
        .flatten()
        .collect()
}

fn numbers(events: &[FollowEvent]) -> Vec<usize> {
    lines_of(events).iter().map(number).collect()
}

/// Polls `follower` until `done` holds for everything seen so far.
fn poll_until(
    follower: &mut Follower,
    seen: &mut Vec<FollowEvent>,
    what: &str,
    done: impl Fn(&[FollowEvent]) -> bool,
) {
    let start = Instant::now();
    loop {
        seen.extend(follower.poll());
        if done(seen) {
            return;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}; saw {seen:?}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn opts() -> FollowOptions {
    FollowOptions { max_line: 1024, ..FollowOptions::default() }
}

#[test]
fn tail_lines_returns_the_last_complete_lines_and_where_to_go_on() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    fs::write(&path, b"one\n\nthree\nfour\nstill writi").expect("write");

    let (lines, end) = tail_lines(&path, 3, 100).expect("tail");
    let texts: Vec<&[u8]> = lines.iter().map(|l| l.bytes.as_slice()).collect();
    assert_eq!(texts, [&b""[..], b"three", b"four"]);
    assert_eq!(end, 16, "the partial last line is held back");

    let (all, _) = tail_lines(&path, 100, 100).expect("tail");
    assert_eq!(all.len(), 4, "fewer lines than asked: all of them, the first too");
    assert_eq!(all[0].bytes, b"one");

    let (none, end) = tail_lines(&path, 0, 100).expect("tail");
    assert!(none.is_empty());
    assert_eq!(end, 16);

    fs::write(&path, b"no newline at all").expect("write");
    assert_eq!(tail_lines(&path, 10, 100).expect("tail"), (Vec::new(), 0));
    fs::write(&path, b"").expect("write");
    assert_eq!(tail_lines(&path, 10, 100).expect("tail"), (Vec::new(), 0));
}

#[test]
fn tail_lines_of_a_1gb_file_reads_only_its_end() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("big.log");
    append(&path, 0..1000);
    let file = OpenOptions::new().write(true).open(&path).expect("open");
    // A sparse hole of ~1 GB, then a newline and the lines that end the file,
    // one of them longer than the cap.
    file.set_len(1 << 30).expect("grow to 1 GB");
    drop(file);
    let mut tail = String::from("\n");
    for i in 5000..7000 {
        if i == 6500 {
            tail.push_str(&format!("line {i:07} {}\n", "y".repeat(5000)));
        } else {
            tail.push_str(&numbered(i));
        }
    }
    tail.push_str("line 0007000 not yet complete");
    OpenOptions::new().append(true).open(&path).expect("open").write_all(tail.as_bytes()).expect("append");
    let len = fs::metadata(&path).expect("stat").len();
    assert!(len > 1 << 30);

    let (lines, end) = tail_lines(&path, 1000, 1024).expect("tail");
    assert_eq!(lines.iter().map(number).collect::<Vec<_>>(), (6000..7000).collect::<Vec<_>>());
    let long = &lines[500];
    assert!(long.truncated && long.bytes.len() == 1024, "the long line is cut at the cap");
    assert!(lines.iter().filter(|l| l.truncated).count() == 1);
    assert_eq!(end, len - "line 0007000 not yet complete".len() as u64);
}

#[test]
fn the_first_poll_shows_the_last_lines_then_new_ones_follow() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    append(&path, 0..3000);
    let mut follower = Follower::open(path.clone(), opts());
    let first = follower.poll();
    assert_eq!(numbers(&first), (2000..3000).collect::<Vec<_>>());
    assert!(follower.poll().is_empty(), "nothing new, nothing sent");
    append(&path, 3000..3010);
    assert_eq!(numbers(&follower.poll()), (3000..3010).collect::<Vec<_>>());
}

#[test]
fn a_partial_line_waits_for_its_newline() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    fs::write(&path, b"done\nhalf").expect("write");
    let mut follower = Follower::open(path.clone(), opts());
    assert_eq!(lines_of(&follower.poll()), [RawLine { bytes: b"done".to_vec(), truncated: false }]);
    OpenOptions::new().append(true).open(&path).expect("open").write_all(b" and more").expect("append");
    assert!(lines_of(&follower.poll()).is_empty(), "no newline yet: nothing");
    OpenOptions::new().append(true).open(&path).expect("open").write_all(b" end\nnext").expect("append");
    assert_eq!(
        lines_of(&follower.poll()),
        [RawLine { bytes: b"half and more end".to_vec(), truncated: false }]
    );
}

#[test]
fn invalid_utf8_passes_through_as_bytes() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    let raw: &[u8] = b"ok \xff\xfe \xc3\x28 \x80\r\n\x1b[2J\x07\n";
    fs::write(&path, raw).expect("write");
    let mut follower = Follower::open(path, opts());
    let lines = lines_of(&follower.poll());
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[0].bytes, b"ok \xff\xfe \xc3\x28 \x80\r");
    assert_eq!(lines[1].bytes, b"\x1b[2J\x07");
}

/// Peak resident memory of this process, from the kernel.
fn peak_rss_kib() -> u64 {
    let status = fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
    line.split_whitespace().nth(1).and_then(|kib| kib.parse().ok()).expect("VmHWM value")
}

#[test]
fn a_50mb_line_is_cut_at_the_cap_in_bounded_memory_and_following_goes_on() {
    // Peak RSS is per process: measure it in a child running only this test,
    // so the other tests' allocations don't count.
    const CHILD: &str = "OPSDECK_FOLLOW_MEMORY_CHILD";
    if std::env::var_os(CHILD).is_none() {
        let out = Command::new(std::env::current_exe().expect("test binary"))
            .args(["--exact", "a_50mb_line_is_cut_at_the_cap_in_bounded_memory_and_following_goes_on"])
            .args(["--test-threads=1", "--nocapture"])
            .env(CHILD, "1")
            .output()
            .expect("run the child");
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && report.contains("1 passed"),
            "{report}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return;
    }
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    fs::write(&path, b"before\n").expect("write");
    let mut follower = Follower::open(path.clone(), FollowOptions { max_line: 16 * 1024, ..opts() });
    let mut seen = follower.poll();
    let peak_before = peak_rss_kib();

    let mut writer = OpenOptions::new().append(true).open(&path).expect("open");
    let chunk = vec![b'z'; 1 << 20];
    for _ in 0..50 {
        writer.write_all(&chunk).expect("append 1 MB");
        seen.extend(follower.poll());
    }
    writer.write_all(b"\nafter\n").expect("append");
    poll_until(&mut follower, &mut seen, "the line after the long one", |seen| lines_of(seen).len() == 3);

    let lines = lines_of(&seen);
    assert_eq!(lines[0].bytes, b"before");
    assert!(lines[1].truncated);
    assert_eq!(lines[1].bytes, vec![b'z'; 16 * 1024]);
    assert_eq!(lines[2], RawLine { bytes: b"after".to_vec(), truncated: false });
    let grown_mib = (peak_rss_kib() - peak_before) / 1024;
    assert!(grown_mib < 24, "50 MB went through a follower and the peak RSS grew by {grown_mib} MiB");
}

#[test]
fn rename_rotation_drains_the_old_file_then_reads_the_new_one_from_its_start() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    append(&path, 0..100);
    let mut follower = Follower::open(path.clone(), opts());
    let mut seen = follower.poll();

    // The daemon keeps its handle on the old file across the rename.
    let mut daemon = OpenOptions::new().append(true).open(&path).expect("open");
    daemon.write_all((100..200).map(numbered).collect::<String>().as_bytes()).expect("write");
    fs::rename(&path, dir.path().join("app.log.1")).expect("rename");
    append(&path, 200..300);
    daemon.write_all((300..310).map(numbered).collect::<String>().as_bytes()).expect("write");
    seen.extend(follower.poll());

    let rotated = seen.iter().position(|e| *e == FollowEvent::Rotated { how: "renamed" }).expect("rotated");
    let (before, after) = seen.split_at(rotated);
    let mut old: Vec<usize> = (0..200).collect();
    old.extend(300..310);
    assert_eq!(numbers(before), old, "the old file is drained before the switch");
    assert_eq!(numbers(after), (200..300).collect::<Vec<_>>(), "then the new file from its start");

    // Written by the daemon before it reopens: still read, within the grace.
    daemon.write_all((310..320).map(numbered).collect::<String>().as_bytes()).expect("write");
    poll_until(&mut follower, &mut seen, "late lines in the old file", |seen| numbers(seen).contains(&319));
    append(&path, 320..330);
    poll_until(&mut follower, &mut seen, "new lines", |seen| numbers(seen).contains(&329));
    let mut got = numbers(&seen);
    got.sort_unstable();
    assert_eq!(got, (0..330).collect::<Vec<_>>(), "every line exactly once");
}

#[test]
fn copytruncate_rereads_from_the_start_and_loses_only_the_copy_window() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    append(&path, 0..100);
    let mut follower = Follower::open(path.clone(), opts());
    let mut seen = follower.poll();
    // Written before the copy, not read before the truncate: read from the copy.
    append(&path, 100..200);

    fs::copy(&path, dir.path().join("app.log.1")).expect("copy");
    append(&path, 200..205); // the window: in neither the copy nor the truncated file
    OpenOptions::new().write(true).open(&path).expect("open").set_len(0).expect("truncate");
    append(&path, 205..300);
    seen.extend(follower.poll());
    let truncated = seen.iter().position(|e| *e == FollowEvent::Truncated).expect("truncation seen");
    assert_eq!(numbers(&seen[..truncated]), (0..200).collect::<Vec<_>>(), "the copy's rest first");
    assert_eq!(numbers(&seen[truncated..]), (205..300).collect::<Vec<_>>(), "then the file from its start");

    // Truncated again and written past the old offset before the next poll:
    // the changed bytes before the offset give it away.
    OpenOptions::new().write(true).open(&path).expect("open").set_len(0).expect("truncate");
    append(&path, 1000..1400);
    let events = follower.poll();
    assert!(events.contains(&FollowEvent::Truncated), "no truncation seen");
    assert_eq!(numbers(&events), (1000..1400).collect::<Vec<_>>());
}

#[test]
fn a_deleted_file_is_missing_then_read_from_its_start_when_it_comes_back() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    append(&path, 0..10);
    let mut follower = Follower::open(path.clone(), FollowOptions { initial_lines: 3, ..opts() });
    assert_eq!(numbers(&follower.poll()), [7, 8, 9]);
    fs::remove_file(&path).expect("delete");
    assert_eq!(follower.poll(), [FollowEvent::Missing]);
    assert!(follower.poll().is_empty(), "missing is said once");
    append(&path, 10..20);
    let events = follower.poll();
    assert_eq!(events[0], FollowEvent::Appeared);
    assert_eq!(numbers(&events), (10..20).collect::<Vec<_>>(), "from its start, not its last 3 lines");
}

#[test]
fn a_file_recreated_and_written_before_the_next_poll_is_read_from_its_start() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    append(&path, 0..10);
    let mut follower = Follower::open(path.clone(), opts());
    follower.poll();
    fs::remove_file(&path).expect("delete");
    // Longer than the old file, so reading from the old offset would skip lines.
    append(&path, 100..130);
    let events = follower.poll();
    assert!(events.contains(&FollowEvent::Rotated { how: "recreated" }), "{events:?}");
    assert_eq!(numbers(&events), (100..130).collect::<Vec<_>>());
}

#[test]
fn a_file_missing_at_start_is_read_from_its_start_when_it_appears() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("later").join("app.log");
    let mut follower = Follower::open(path.clone(), FollowOptions { initial_lines: 1, ..opts() });
    assert_eq!(follower.poll(), [FollowEvent::Missing]);
    fs::create_dir(dir.path().join("later")).expect("mkdir");
    append(&path, 0..5);
    let events = follower.poll();
    assert_eq!(events[0], FollowEvent::Appeared);
    assert_eq!(numbers(&events), [0, 1, 2, 3, 4]);
}

#[test]
fn permission_denied_is_an_error_naming_the_path_and_following_keeps_trying() {
    let dir = TempDir::new().expect("tempdir");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod dir");
    let path = dir.path().join("secret.log");
    append(&path, 0..5);
    fs::set_permissions(&path, fs::Permissions::from_mode(0o000)).expect("chmod 000");
    let watched = path.clone();
    // As root the follower runs in a thread whose filesystem uid is `nobody`
    // (setfsuid is per thread), so the file's mode applies to it.
    let (to_main, from_follower) = std::sync::mpsc::channel();
    let (to_follower, from_main) = std::sync::mpsc::channel::<()>();
    let thread = std::thread::spawn(move || {
        if unsafe { libc::geteuid() } == 0 {
            unsafe { libc::syscall(libc::SYS_setfsuid, 65534) };
            assert!(File::open(&watched).is_err(), "could not drop file access rights");
        }
        let mut follower = Follower::open(watched, opts());
        let denied = follower.poll();
        assert!(follower.poll().is_empty(), "the same error is said once");
        to_main.send(denied).expect("send");
        from_main.recv().expect("made readable");
        let mut seen = Vec::new();
        poll_until(&mut follower, &mut seen, "lines once readable", |seen| numbers(seen).len() == 5);
        seen
    });
    let denied = from_follower.recv().expect("first poll");
    match denied.as_slice() {
        [FollowEvent::Error(message)] => {
            assert!(message.contains(&*path.to_string_lossy()), "{message}");
            assert!(message.contains("ermission denied"), "{message}");
        }
        other => panic!("expected one error, got {other:?}"),
    }
    fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod 644");
    to_follower.send(()).expect("send");
    let seen = thread.join().expect("follower thread");
    assert_eq!(numbers(&seen), [0, 1, 2, 3, 4]);
}

/// The async driver's output, gathered until a condition holds.
struct Live {
    rx: mpsc::Receiver<(Arc<Path>, FollowEvent)>,
    cancel: CancellationToken,
    task: tokio::task::JoinHandle<()>,
    seen: Vec<(PathBuf, FollowEvent)>,
}

impl Live {
    fn start(target: &str, opts: FollowOptions) -> Live {
        let (tx, rx) = mpsc::channel(64);
        let cancel = CancellationToken::new();
        let target = FollowTarget::parse(target).expect("target");
        let task = tokio::spawn(follow(target, opts, tx, cancel.clone()));
        Live { rx, cancel, task, seen: Vec::new() }
    }

    async fn wait_for(&mut self, what: &str, done: impl Fn(&[(PathBuf, FollowEvent)]) -> bool) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while !done(&self.seen) {
            match tokio::time::timeout_at(deadline, self.rx.recv()).await {
                Ok(Some((path, event))) => self.seen.push((path.to_path_buf(), event)),
                Ok(None) => panic!("the driver stopped while waiting for {what}"),
                Err(_) => panic!("timed out waiting for {what}; saw {} events", self.seen.len()),
            }
        }
    }

    fn numbers_from(&self, path: &Path) -> Vec<usize> {
        let events: Vec<FollowEvent> =
            self.seen.iter().filter(|(p, _)| p == path).map(|(_, e)| e.clone()).collect();
        numbers(&events)
    }

    fn all_numbers(&self) -> Vec<usize> {
        numbers(&self.seen.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>())
    }

    async fn stop(self) {
        self.cancel.cancel();
        tokio::time::timeout(DEADLINE, self.task)
            .await
            .expect("the driver ends on cancel")
            .expect("no panic");
    }
}

/// A daemon that writes numbered lines to `app.log` until `stop` exists, and
/// reopens the log on SIGHUP; it prints how many lines it wrote.
fn spawn_writer(dir: &Path) -> Child {
    let script = r#"
        exec 3>>app.log
        trap 'exec 3>>app.log' HUP
        i=0
        while [ ! -e stop ]; do
            printf 'line %07d the quick brown fox jumps over the lazy dog\n' $i >&3
            i=$((i+1))
        done
        echo $i
    "#;
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn sh")
}

fn finish_writer(dir: &Path, writer: Child) -> usize {
    fs::write(dir.join("stop"), b"").expect("stop file");
    let out = writer.wait_with_output().expect("writer exits");
    String::from_utf8_lossy(&out.stdout).trim().parse().expect("line count")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_writer_rotated_by_rename_and_sighup_loses_and_repeats_nothing() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    let mut live = Live::start(&path.to_string_lossy(), FollowOptions::default());
    // Started before the log exists, so all of it is read (not just its tail).
    live.wait_for("the log missing", |seen| seen.iter().any(|(_, e)| *e == FollowEvent::Missing)).await;
    let writer = spawn_writer(dir.path());
    let pid = writer.id() as libc::pid_t;

    for round in 1..=3usize {
        let want = round * 2000;
        live.wait_for("lines before rotating", |seen| {
            seen.iter()
                .filter_map(|(_, e)| if let FollowEvent::Lines(l) = e { Some(l.len()) } else { None })
                .sum::<usize>()
                >= want
        })
        .await;
        // logrotate's default: rename, create the new file, signal the daemon.
        fs::rename(&path, dir.path().join(format!("app.log.{round}"))).expect("rename");
        File::create(&path).expect("create");
        assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    }
    let written = finish_writer(dir.path(), writer);
    live.wait_for("every line", |seen| {
        numbers(&seen.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>()).contains(&(written - 1))
    })
    .await;
    // The old file may get lines after the new one did (before the daemon
    // reopened), so wait until the count is right, then check each is once.
    live.wait_for("late lines from rotated files", |seen| {
        numbers(&seen.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>()).len() >= written
    })
    .await;
    let mut got = live.all_numbers();
    got.sort_unstable();
    assert_eq!(got.len(), written, "no line twice");
    assert!(got.iter().enumerate().all(|(i, &n)| i == n), "every line once");
    // The last lines may have been read through the old handle before the
    // rename was looked at; the switch comes all the same.
    live.wait_for("the third rotation", |seen| {
        seen.iter().filter(|(_, e)| matches!(e, FollowEvent::Rotated { .. })).count() == 3
    })
    .await;
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_writer_under_copytruncate_loses_only_lines_of_the_copy_window() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    let mut live = Live::start(&path.to_string_lossy(), FollowOptions::default());
    live.wait_for("the log missing", |seen| seen.iter().any(|(_, e)| *e == FollowEvent::Missing)).await;
    let writer = spawn_writer(dir.path());
    live.wait_for("lines before the copy", |seen| {
        seen.iter().any(|(_, e)| matches!(e, FollowEvent::Lines(_)))
    })
    .await;

    let copy = dir.path().join("app.log.1");
    fs::copy(&path, &copy).expect("copy");
    OpenOptions::new().write(true).open(&path).expect("open").set_len(0).expect("truncate");
    live.wait_for("the truncation", |seen| seen.iter().any(|(_, e)| *e == FollowEvent::Truncated)).await;
    let written = finish_writer(dir.path(), writer);
    live.wait_for("the last line", |seen| {
        numbers(&seen.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>()).contains(&(written - 1))
    })
    .await;

    // Every line in the copy arrived (those not read before the truncate from
    // the copy itself); only lines after it and before the first line of the
    // truncated file may be lost.
    let last_copied = fs::read_to_string(&copy).expect("copy").lines().count();
    // A writer stalled until the stop wrote nothing after the truncate.
    let first_after = fs::read_to_string(&path)
        .expect("log")
        .lines()
        .next()
        .map(|l| l.split(' ').nth(1).and_then(|n| n.parse::<usize>().ok()).expect("a numbered line"))
        .unwrap_or(written);
    let mut counts = BTreeMap::new();
    for n in live.all_numbers() {
        *counts.entry(n).or_insert(0) += 1;
    }
    assert!(counts.values().all(|&c| c == 1), "no line twice");
    let lost: Vec<usize> = (0..written).filter(|n| !counts.contains_key(n)).collect();
    assert!(
        lost.iter().all(|&n| n >= last_copied && n < first_after),
        "lost {lost:?}, outside the window {last_copied}..{first_after}"
    );
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_glob_follows_files_created_later_from_their_start() {
    let dir = TempDir::new().expect("tempdir");
    let a = dir.path().join("a.log");
    append(&a, 0..2000);
    fs::write(dir.path().join("notes.txt"), numbered(9999)).expect("write");
    let pattern = format!("{}/*.log", dir.path().display());
    let mut live = Live::start(&pattern, FollowOptions { initial_lines: 10, ..FollowOptions::default() });
    live.wait_for("a.log's tail", |seen| seen.iter().any(|(_, e)| matches!(e, FollowEvent::Backlog(_))))
        .await;
    assert_eq!(live.numbers_from(&a), (1990..2000).collect::<Vec<_>>());

    let b = dir.path().join("sub-not-matched");
    fs::create_dir(&b).expect("mkdir");
    append(&b.join("deep.log"), 0..3);
    let c = dir.path().join("c.log");
    append(&c, 5000..5020);
    live.wait_for("c.log", |seen| seen.iter().filter(|(p, _)| p == &c).count() > 0).await;
    live.wait_for("all of c.log", |seen| {
        let events: Vec<FollowEvent> = seen.iter().filter(|(p, _)| p == &c).map(|(_, e)| e.clone()).collect();
        numbers(&events).len() == 20
    })
    .await;
    assert_eq!(live.numbers_from(&c), (5000..5020).collect::<Vec<_>>(), "from its start");
    append(&a, 2000..2001);
    live.wait_for("a.log still followed", |seen| {
        seen.iter().any(|(p, e)| {
            p == &a && matches!(e, FollowEvent::Lines(l) if l.iter().any(|l| number(l) == 2000))
        })
    })
    .await;
    assert!(live.seen.iter().all(|(p, _)| p == &a || p == &c), "only matches are followed");
    live.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_driver_reads_a_file_created_after_start_and_stops_on_cancel() {
    let dir = TempDir::new().expect("tempdir");
    let path = dir.path().join("app.log");
    let mut live = Live::start(
        &path.to_string_lossy(),
        FollowOptions { poll: Duration::from_millis(20), ..FollowOptions::default() },
    );
    live.wait_for("missing", |seen| seen.iter().any(|(_, e)| *e == FollowEvent::Missing)).await;
    append(&path, 0..3);
    live.wait_for("the new file", |seen| {
        numbers(&seen.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>()).len() == 3
    })
    .await;
    assert!(live.seen.iter().any(|(_, e)| *e == FollowEvent::Appeared));
    live.stop().await;
}
