//! The Logs tab end to end: the real binary in a PTY following real files.
//! Lines arrive as they are written and across a rename rotation; a line
//! full of escape sequences stays inert text in its own row; the filter,
//! the search, pause and copy work from the keyboard.

mod common;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use common::{Sandbox, Session};

const TABS: [&str; 5] = ["1 Metrics", "2 Alerts", "3 Replication", "4 Backups", "5 Logs"];

fn append(path: &Path, text: &str) {
    let mut f = OpenOptions::new().create(true).append(true).open(path).expect("open log");
    f.write_all(text.as_bytes()).expect("append");
}

fn start(sandbox: &Sandbox, config: &Path) -> Session {
    let s = sandbox.spawn_sized(&[common::BIN, "--config", config.to_str().expect("utf-8")], &[], 30, 120);
    s.wait_for("the first frame", |t| TABS.iter().all(|tab| t.contains(tab)));
    s
}

#[test]
fn follow_rotate_filter_search_pause_and_copy_by_keys() {
    let sandbox = Sandbox::new();
    let app = sandbox.path().join("app.log");
    let api = sandbox.path().join("api.json");
    append(&app, "2026-11-23T03:00:00Z INFO boot ok\n2026-11-23T03:00:01Z ERROR disk slow on sdb\n");
    append(&api, "{\"level\":\"warn\",\"msg\":\"slow call\",\"service_name\":\"api\"}\n");
    let config = sandbox.write(
        "logs.toml",
        &format!(
            "[[logs]]\nname = \"app\"\npath = \"{}\"\n\n[[logs]]\nname = \"api\"\npath = \"{}/*.json\"\n",
            app.display(),
            sandbox.path().display()
        ),
    );
    let mut s = start(&sandbox, &config);
    s.send("5");
    s.wait_for("the existing lines", |t| t.contains("disk slow on sdb") && t.contains("slow call"));

    // Written now: shown while following.
    append(&app, "2026-11-23T03:00:02Z INFO written while following\n");
    s.wait_for_text("written while following");

    // An escape-laden line: it may not clear the screen, move the cursor,
    // retitle the window or reach the clipboard.
    let mark = s.raw_len();
    append(&app, "evil \x1b[2J\x1b[1;1HMOVED \x1b]0;pwned\x07 \x1b]52;c;cHduZWQ=\x07 tail\n");
    let screen = s.wait_for("the evil line, inert", |t| t.contains("evil") && t.contains("tail"));
    let row = screen.lines().find(|l| l.contains("evil")).expect("its row");
    assert!(row.contains("MOVED"), "the text stays in its row: {row}");
    assert!(screen.contains("5 Logs"), "the screen was not cleared:\n{screen}");
    let raw = String::from_utf8_lossy(&s.raw()[mark..]).into_owned();
    assert!(!raw.contains("\x1b]0;") && !raw.contains("\x1b]52;"), "an escape reached the terminal: {raw:?}");

    // Rotation by rename: the old file's last line, then the new file's.
    append(&app, "last line of the old file\n");
    fs::rename(&app, sandbox.path().join("app.log.1")).expect("rotate");
    append(&app, "first line of the new file\n");
    s.wait_for("both sides of the rotation", |t| {
        t.contains("last line of the old file") && t.contains("first line of the new file")
    });

    // Filter live by keys: only the error line of app remains.
    s.send("/");
    s.send("disk slow");
    s.wait_for("the filter", |t| t.contains("1 of ") && t.contains("filter disk slow"));
    s.send("\r");
    s.send("\x1b");
    s.wait_for("the filter cleared", |t| !t.contains("filter disk slow") && t.contains("slow call"));

    // Search: jump to the match (pausing), then follow again.
    s.send("f");
    s.send("boot");
    s.send("\r");
    s.wait_for("the search", |t| t.contains("PAUSED") && t.contains("search boot"));
    append(&app, "arrived while paused\n");
    s.wait_for("the count of new lines", |t| t.contains(" 1 new"));
    s.send("F");
    s.wait_for("following again", |t| t.contains("following") && t.contains("arrived while paused"));

    // Copy: the selected line goes to the clipboard as OSC 52.
    s.send("k");
    let mark = s.raw_len();
    s.send("y");
    s.wait_for_raw(mark, "\x1b]52;c;");
    s.send("q");
    assert_eq!(s.wait_exit(), 0, "{}", s.dump());
}

/// `opsdeck --log FILE`, the quick-triage form: no config, straight onto the
/// Logs tab, showing the end of a file much longer than the screen.
#[test]
fn log_flag_opens_the_logs_tab_at_the_end_of_the_file() {
    let sandbox = Sandbox::new();
    let log = sandbox.path().join("big.log");
    let body: String =
        (0..50_000).map(|i| format!("2026-11-23T03:00:00Z INFO line number {i:06}\n")).collect();
    append(&log, &body);
    let path = log.to_str().expect("utf-8");
    let s = sandbox.spawn_sized(&[common::BIN, "--log", path], &[], 30, 120);
    let screen = s.wait_for("the last line on the Logs tab", |t| t.contains("line number 049999"));
    assert!(screen.contains("big.log"), "the source is named by its file:\n{screen}");
    assert!(!screen.contains("line number 000000"), "it starts at the end, not the top:\n{screen}");
}

/// The status bar's clock (`HH:MM:SS`), which ticks once a second.
fn clock(screen: &str) -> Option<String> {
    let chars: Vec<char> = screen.chars().collect();
    chars.windows(8).map(|w| w.iter().collect::<String>()).find(|w| {
        let b = w.as_bytes();
        b.len() == 8
            && [0, 1, 3, 4, 6, 7].iter().all(|&i| b[i].is_ascii_digit())
            && b[2] == b':'
            && b[5] == b':'
    })
}

/// The source strip's row for `name`.
fn strip_row<'a>(screen: &'a str, name: &str) -> &'a str {
    let starts = |l: &str| l.trim_start_matches(['│', ' ']).starts_with(name);
    screen.lines().find(|l| starts(l) && l.contains("lines/s")).unwrap_or("")
}

/// The backlog read at start is history, not a rate: 950 ERROR lines
/// stamped three hours ago and 50 without a time (the last 1,000 lines of
/// the file) count 0 errors a minute and fire no `LogErrors` (its `for`
/// set to 0 here, so one evaluation would fire it). Error lines written
/// after start do count: those without a time as they arrive, those with
/// one by it.
#[test]
fn the_backlog_read_at_start_is_not_counted_as_live_errors() {
    let sandbox = Sandbox::new();
    let log = sandbox.path().join("app.log");
    let old = (jiff::Timestamp::now() - jiff::SignedDuration::from_hours(3)).strftime("%Y-%m-%dT%H:%M:%SZ");
    let mut backlog: String =
        (0..950).map(|i| format!("{old} ERROR request {i}: upstream timed out\n")).collect();
    backlog.extend((0..50).map(|i| format!("ERROR untimed failure {i}\n")));
    append(&log, &backlog);
    let config = sandbox.write(
        "logs.toml",
        &format!(
            "[[logs]]\nname = \"app\"\npath = \"{}\"\n\n\
             [[rules]]\nname = \"LogErrors\"\nfor = \"0s\"\n\n\
             [[rules]]\nname = \"HighCpu\"\nenabled = false\n\n\
             [[rules]]\nname = \"HighMemory\"\nenabled = false\n\n\
             [[rules]]\nname = \"DiskFull\"\nenabled = false\n",
            log.display()
        ),
    );
    let mut s = start(&sandbox, &config);
    s.send("5");
    s.wait_for_text("untimed failure 49");
    let screen = s.wait_for("the strip to count the backlog as nothing", |t| {
        let row = strip_row(t, "app");
        row.contains(" 0 lines/s") && row.contains("err    0/min")
    });
    // A few ticks with the backlog in place: each node sample judges the rules.
    let seen = std::cell::RefCell::new(vec![clock(&screen).expect("a clock")]);
    let screen = s.wait_for("three more clock ticks", |t| {
        let mut seen = seen.borrow_mut();
        if let Some(c) = clock(t)
            && !seen.contains(&c)
        {
            seen.push(c);
        }
        seen.len() >= 4
    });
    let row = strip_row(&screen, "app");
    assert!(row.contains("err    0/min"), "the backlog counted after ticks: {row}");
    s.send("2");
    let alerts = s.wait_for("the Alerts tab", |t| t.contains("╭ Alerts ") || t.contains("[[alertmanager]]"));
    // The empty state names the rules it watches; a firing one shows its summary.
    assert!(!alerts.contains("errors a minute"), "the backlog fired LogErrors:\n{alerts}");

    // News: 20 timeless error lines and 5 stamped now, 25 errors this minute.
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
    let mut news: String = (0..20).map(|i| format!("ERROR new failure {i}\n")).collect();
    news.extend((0..5).map(|i| format!("{now} ERROR stamped failure {i}\n")));
    append(&log, &news);
    s.send("5");
    s.wait_for("the new errors counted", |t| strip_row(t, "app").contains("err   25/min"));
    s.send("2");
    s.wait_for("LogErrors firing on the new errors", |t| t.contains("app logs 25 errors a minute"));
    s.send("q");
    assert_eq!(s.wait_exit(), 0, "{}", s.dump());
}
