//! End-to-end tests: the real binary in a real pseudo-terminal.

mod common;

use std::process::Stdio;

use common::{
    ENTER_ALT_SCREEN, LEAVE_ALT_SCREEN, MOUSE_OFF, SHOW_CURSOR, Sandbox, Session, children_named, cpu_figure,
    find_last, process_state,
};

/// Narrow screens shorten "Replication" to "Repl"; this prefix fits both.
const TABS: [&str; 5] = ["1 Metrics", "2 Alerts", "3 Repl", "4 Backups", "5 Logs"];

/// Wait until the first frame is on screen (the signal handlers are
/// installed before it is drawn).
fn wait_first_frame(s: &Session) -> String {
    s.wait_for("the first frame (all five tabs)", |t| TABS.iter().all(|tab| t.contains(tab)))
}

/// The Alerts tab is open: its empty state, or its queue when this host
/// already fires a built-in rule (a disk above 90 % here fires DiskFull).
#[track_caller]
fn wait_alerts_tab(s: &Session) {
    s.wait_for("the Alerts tab", |t| t.contains("[[alertmanager]]") || t.contains("╭ Alerts "));
}

/// Quit with the quit key; the exit code must be 0.
#[track_caller]
fn quit_cleanly(s: &mut Session) {
    s.send("q");
    assert_eq!(s.wait_exit(), 0, "quit did not exit 0\n{}", s.dump());
}

/// After the program exited: main screen back, and the bytes that undo
/// every mode it set came after the last time it set them, and the tty is
/// in cooked mode again.
#[track_caller]
fn assert_terminal_restored(s: &Session) {
    let raw = s.raw();
    assert!(!s.alternate_screen(), "still on the alternate screen after exit\n{}", s.dump());
    let entered = find_last(&raw, ENTER_ALT_SCREEN).expect("the alternate screen was never entered");
    for (what, seq) in [
        ("leave the alternate screen", LEAVE_ALT_SCREEN),
        ("show the cursor", SHOW_CURSOR),
        ("mouse off", MOUSE_OFF),
    ] {
        let at = find_last(&raw, seq).unwrap_or_else(|| panic!("never sent {seq:?} ({what})\n{}", s.dump()));
        assert!(
            at > entered,
            "{seq:?} ({what}) was not sent after the last {ENTER_ALT_SCREEN:?}\n{}",
            s.dump()
        );
    }
    let lflag = s.local_flags();
    assert!(lflag & libc::ICANON != 0, "the tty is still in raw mode (ICANON off) after exit");
    assert!(lflag & libc::ECHO != 0, "the tty still has echo off after exit");
}

/// The key column of the help line that ends in `description`.
fn help_key(screen: &str, description: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains(description))?;
    let before = &line[..line.find(description)?];
    before.split_whitespace().last().map(str::to_owned)
}

#[test]
fn starts_and_shows_the_five_tabs_and_this_nodes_cpu() {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn(&[]);
    let first = wait_first_frame(&s);
    for tab in TABS {
        assert!(first.contains(tab), "tab {tab:?} missing\n{first}");
    }
    let screen =
        s.wait_for("a CPU figure and the process table", |t| cpu_figure(t).is_some() && t.contains("PID"));
    let cpu = cpu_figure(&screen).expect("a CPU figure");
    assert!((0.0..=100.0).contains(&cpu), "CPU {cpu}% is out of range\n{screen}");
    assert!(s.alternate_screen(), "the cockpit is not on the alternate screen");
    quit_cleanly(&mut s);
}

#[test]
fn switches_tabs_by_key() {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn(&[]);
    wait_first_frame(&s);
    s.wait_for_text("PID");

    s.send("3");
    let screen = s.wait_for("the Replication empty state", |t| {
        t.contains("Nothing configured for this tab yet.") && t.contains("[[clusters]]")
    });
    assert!(!screen.contains("PID"), "the process table is still drawn on tab 3\n{screen}");

    s.send("\t");
    let screen = s.wait_for("the Backups empty state", |t| t.contains("[[backups]]"));
    assert!(!screen.contains("[[clusters]]"), "Replication's snippet is still on screen\n{screen}");
    assert!(screen.contains("Nothing configured for this tab yet."), "{screen}");

    s.send("1");
    let screen = s.wait_for("the Metrics tab again", |t| t.contains("PID") && !t.contains("[[backups]]"));
    assert!(!screen.contains("Nothing configured"), "{screen}");

    quit_cleanly(&mut s);
}

#[test]
fn help_overlay_lists_the_live_keymap() {
    const SORT: &str = "sort processes by CPU";
    let sandbox = Sandbox::new();

    // Built-in keymap: `c` sorts by CPU.
    let mut s = sandbox.spawn(&[]);
    wait_first_frame(&s);
    s.send("?");
    let screen = s.wait_for("the help overlay", |t| t.contains("Help") && t.contains(SORT));
    assert_eq!(help_key(&screen, SORT).as_deref(), Some("c"), "default key for {SORT:?}\n{screen}");
    quit_cleanly(&mut s);
    drop(s);

    // Rebound in the config: help follows.
    let config = sandbox.write("keys.toml", "[keys]\nsort_by_cpu = \"C\"\n");
    let mut s = sandbox.spawn(&["--config", config.to_str().unwrap()]);
    wait_first_frame(&s);
    s.send("?");
    let screen = s.wait_for("the help overlay", |t| t.contains("Help") && t.contains(SORT));
    assert_eq!(help_key(&screen, SORT).as_deref(), Some("C"), "rebound key for {SORT:?}\n{screen}");
    quit_cleanly(&mut s);
}

#[test]
fn quits_with_q_exit_0_and_leaves_the_alternate_screen() {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn(&[]);
    wait_first_frame(&s);
    s.wait_for_screen("the alternate screen", vt100::Screen::alternate_screen);
    // Raw while running, so that the cooked check after exit means something.
    let lflag = s.local_flags();
    assert!(lflag & (libc::ICANON | libc::ECHO) == 0, "the cockpit runs with line editing or echo on");
    quit_cleanly(&mut s);
    assert_terminal_restored(&s);
}

fn signal_exits_with(signal: libc::c_int, code: i32) {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn(&[]);
    wait_first_frame(&s);
    s.signal(signal);
    assert_eq!(s.wait_exit(), code, "exit code after signal {signal}");
    assert_terminal_restored(&s);
}

#[test]
fn sigterm_exits_143_and_restores_the_terminal() {
    signal_exits_with(libc::SIGTERM, 143);
}

#[test]
fn sighup_exits_129_and_restores_the_terminal() {
    signal_exits_with(libc::SIGHUP, 129);
}

#[test]
fn sigint_exits_130_and_restores_the_terminal() {
    signal_exits_with(libc::SIGINT, 130);
}

#[test]
fn sigquit_exits_131_and_restores_the_terminal() {
    signal_exits_with(libc::SIGQUIT, 131);
}

/// `kill -TSTP` from outside: the terminal is given back (main screen,
/// cooked mode) before the process stops; `kill -CONT` takes it again,
/// repaints everything, and keys work at once, without an Enter. Spawned
/// straight into the PTY, the process group is orphaned and a SIGTSTP's
/// default action would be discarded: opsdeck stops itself all the same,
/// since whoever sent the stop can continue it.
#[test]
fn sigtstp_gives_the_terminal_back_and_sigcont_takes_it_again() {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn(&[]);
    wait_first_frame(&s);
    s.wait_for_text("PID");
    let mark = s.raw_len();
    s.signal(libc::SIGTSTP);
    s.wait_for_cond("opsdeck to be stopped (state T)", || process_state(s.pid()) == Some('T'));
    s.wait_for_raw(mark, LEAVE_ALT_SCREEN);
    let after = s.raw_since(mark);
    for seq in [SHOW_CURSOR, MOUSE_OFF] {
        assert!(after.contains(seq), "{seq:?} not sent before stopping: {after:?}");
    }
    assert!(!s.alternate_screen(), "stopped on the alternate screen\n{}", s.dump());
    let lflag = s.local_flags();
    assert!(lflag & libc::ICANON != 0 && lflag & libc::ECHO != 0, "stopped with the tty in raw mode");

    let mark = s.raw_len();
    s.signal(libc::SIGCONT);
    s.wait_for_cond("opsdeck to run again", || process_state(s.pid()).is_some_and(|st| st != 'T'));
    s.wait_for_raw(mark, ENTER_ALT_SCREEN);
    s.wait_for_screen("the redrawn cockpit", |scr| {
        scr.alternate_screen() && scr.contents().contains("1 Metrics") && scr.contents().contains("PID")
    });
    let lflag = s.local_flags();
    assert!(lflag & (libc::ICANON | libc::ECHO) == 0, "raw mode was not taken again");
    // One key, no Enter: the tab switches.
    s.send("2");
    wait_alerts_tab(&s);
    quit_cleanly(&mut s);
    assert_terminal_restored(&s);
}

/// Arming with the longest window the config allows neither panics nor
/// overflows: the notice names the window and the cockpit keeps working.
#[test]
fn arming_with_the_longest_allowed_window_works() {
    let sandbox = Sandbox::new();
    let config = sandbox.write("guard.toml", "[guard]\narm_window = \"1day\"\n");
    let mut s = sandbox.spawn(&["--config", config.to_str().expect("utf-8")]);
    wait_first_frame(&s);
    s.send("A");
    s.wait_for_text("ARMED for 1day");
    s.send("2");
    wait_alerts_tab(&s);
    quit_cleanly(&mut s);
}

#[test]
fn non_tty_stdin_gives_one_clear_error() {
    let sandbox = Sandbox::new();
    let out = sandbox
        .command(std::iter::empty::<&str>())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run opsdeck");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some_and(|c| c != 0), "status {:?}, stderr {stderr:?}", out.status);
    assert_eq!(stderr.matches('\n').count(), 1, "stderr is not exactly one line: {stderr:?}");
    assert!(stderr.ends_with('\n'), "{stderr:?}");
    assert!(stderr.contains("is not a terminal"), "{stderr:?}");
    assert!(!stderr.contains('\x1b'), "escape sequences on stderr: {stderr:?}");
    assert!(out.stdout.is_empty(), "stdout is not empty: {:?}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn bad_config_exits_78_with_file_line_column() {
    let sandbox = Sandbox::new();
    let config = sandbox.write("bad.toml", "theme = \"dark\"\nrefresh = \"1x\"\n");
    let out = sandbox
        .command(["--config".as_ref(), config.as_os_str()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .expect("run opsdeck");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(78), "stderr {stderr:?}");
    let location = format!("{}:2:11", config.display());
    assert!(stderr.contains(&location), "no {location:?} in {stderr:?}");
    assert!(stderr.contains("invalid duration"), "{stderr:?}");
    assert!(!stderr.contains("is not a terminal"), "the tty check ran before the config check: {stderr:?}");
    assert!(out.stdout.is_empty(), "stdout: {:?}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn panic_restores_the_terminal_and_prints_the_report() {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn_with(&[], &[("OPSDECK_TEST_PANIC_AFTER_FIRST_FRAME", "1")]);
    let code = s.wait_exit();
    assert_eq!(code, 101, "a panic should exit 101\n{}", s.dump());
    assert_terminal_restored(&s);
    let screen = s.screen_text();
    assert!(screen.contains("test panic requested"), "no panic report on the main screen\n{}", s.dump());
    // The report comes after the restore, or it would be lost with the
    // alternate screen.
    let raw = s.raw();
    let report = find_last(&raw, "test panic requested").expect("report in the output");
    let left = find_last(&raw, LEAVE_ALT_SCREEN).expect("left the alternate screen");
    assert!(report > left, "the report was printed before the terminal was restored");
}

#[test]
fn config_check_and_init() {
    let sandbox = Sandbox::new();
    let path = sandbox.path().join("nested/dir/config.toml");
    let path_s = path.to_str().unwrap();
    let run = |args: &[&str]| sandbox.command(args).stdin(Stdio::null()).output().expect("run opsdeck");

    let init = run(&["config", "init", path_s]);
    assert!(init.status.success(), "config init: {init:?}");
    assert!(String::from_utf8_lossy(&init.stdout).contains(path_s), "{init:?}");
    let written = std::fs::read_to_string(&path).expect("config init wrote the file");
    assert!(!written.trim().is_empty(), "config init wrote an empty file");

    let check = run(&["config", "check", path_s]);
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert_eq!(check.status.code(), Some(0), "config check of the example: {check:?}");
    assert_eq!(stdout.trim_end(), format!("{path_s}: ok"), "{check:?}");

    // An edit of ours, so an overwrite would show.
    let edited = format!("{written}\n# edited by the operator\n");
    std::fs::write(&path, &edited).unwrap();
    let again = run(&["config", "init", path_s]);
    assert!(again.status.code().is_some_and(|c| c != 0), "config init over an existing file: {again:?}");
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force"), "{again:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited, "config init changed the existing file");

    let forced = run(&["config", "init", "--force", path_s]);
    assert!(forced.status.success(), "config init --force: {forced:?}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), written, "--force did not rewrite the example");
}

/// `bash -c` with `set -m` (job control without an interactive shell or rc
/// files) running the cockpit, waiting for one line on the terminal between
/// its stop and `fg`.
const JOB_CONTROL_WRAPPER: &str = r#"set -m
"$0"
printf '\nwrapper: opsdeck status %s\n' "$?"
read -r _
fg %1
"#;

/// The cockpit under `JOB_CONTROL_WRAPPER`, drawn, and its pid.
fn under_job_control(sandbox: &Sandbox) -> (Session, i32) {
    let mut s =
        sandbox.spawn_argv(&["bash", "--norc", "--noprofile", "-c", JOB_CONTROL_WRAPPER, common::BIN], &[]);
    let bash = s.pid();
    wait_first_frame(&s);
    let mut found = Vec::new();
    s.wait_for_cond("the opsdeck child of the wrapper shell", || {
        found = children_named(bash, "opsdeck");
        found.len() == 1
    });
    let pid = found[0];
    s.adopt(pid);
    s.wait_for_text("PID");
    (s, pid)
}

/// The job-control path a user takes: a shell with job control runs the
/// cockpit in its own foreground process group, Ctrl-Z stops it, `fg`
/// continues it.
///
/// Run directly under the PTY (as portable-pty spawns it, a session leader
/// whose parent is in another session), the cockpit's process group is
/// orphaned: no shell could `fg` it, so Ctrl-Z is refused there; see
/// `ctrl_z_in_an_orphaned_process_group_keeps_running`. Hence the
/// wrapper: `bash -c` with `set -m` (job control without an interactive
/// shell or rc files), which waits for one line on the terminal between
/// the stop and `fg` (`JOB_CONTROL_WRAPPER`).
#[test]
fn ctrl_z_suspends_and_fg_redraws() {
    let sandbox = Sandbox::new();
    let (mut s, pid) = under_job_control(&sandbox);

    let mark = s.raw_len();
    s.send("\x1a");
    s.wait_for_cond("opsdeck to be stopped (state T)", || process_state(pid) == Some('T'));
    s.wait_for_raw(mark, LEAVE_ALT_SCREEN);
    let after = s.raw_since(mark);
    for seq in [SHOW_CURSOR, MOUSE_OFF] {
        assert!(after.contains(seq), "{seq:?} not sent before stopping: {after:?}");
    }
    // 147 = 128 + SIGSTOP: the shell saw it stop, not exit. (opsdeck
    // handles SIGTSTP to give the terminal back, so it stops with SIGSTOP.)
    s.wait_for_text("wrapper: opsdeck status 147");
    assert!(
        !s.alternate_screen(),
        "stopped, but the terminal is still on the alternate screen\n{}",
        s.dump()
    );

    let mark = s.raw_len();
    s.send("\r"); // the wrapper's `read`; then `fg`
    s.wait_for_cond("opsdeck to run again", || process_state(pid).is_some_and(|st| st != 'T'));
    s.wait_for_raw(mark, ENTER_ALT_SCREEN);
    s.wait_for_screen("the redrawn cockpit", |scr| {
        scr.alternate_screen() && scr.contents().contains("1 Metrics") && scr.contents().contains("PID")
    });

    // Still responsive after the round trip; `fg` passes its exit code on.
    s.send("q");
    assert_eq!(s.wait_exit(), 0, "exit code of `fg`, i.e. of opsdeck");
}

/// The reported case: `kill -TSTP` on a cockpit a job-control shell runs.
/// It gives the terminal back before it stops (the shell's prompt is on the
/// main screen, in cooked mode), and after `fg` it is raw and redrawn again,
/// so a single key works without an Enter.
#[test]
fn kill_tstp_under_a_shell_then_fg_takes_the_terminal_again() {
    let sandbox = Sandbox::new();
    let (mut s, pid) = under_job_control(&sandbox);
    // SAFETY: kill(2) only reads its arguments.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGTSTP) }, 0);
    s.wait_for_cond("opsdeck to be stopped (state T)", || process_state(pid) == Some('T'));
    // The shell saw it stop (status 128 + the stop signal), and prints on the main screen.
    s.wait_for_text("wrapper: opsdeck status 14");
    assert!(!s.alternate_screen(), "stopped on the alternate screen\n{}", s.dump());
    let lflag = s.local_flags();
    assert!(lflag & libc::ICANON != 0, "stopped with the tty in raw mode");

    let mark = s.raw_len();
    s.send("\r"); // the wrapper's `read`; then `fg`
    s.wait_for_cond("opsdeck to run again", || process_state(pid).is_some_and(|st| st != 'T'));
    s.wait_for_raw(mark, ENTER_ALT_SCREEN);
    s.wait_for_screen("the redrawn cockpit", |scr| {
        scr.alternate_screen() && scr.contents().contains("1 Metrics") && scr.contents().contains("PID")
    });
    s.send("2");
    wait_alerts_tab(&s);
    s.send("q");
    assert_eq!(s.wait_exit(), 0, "exit code of `fg`, i.e. of opsdeck");
}

/// Without a job-control parent the kernel discards Ctrl-Z's stop (the
/// process group is orphaned). The cockpit must then not hang, die or stay
/// on the main screen: it gives the terminal back, takes it again at once
/// and keeps working.
#[test]
fn ctrl_z_in_an_orphaned_process_group_keeps_running() {
    // Spawned straight into a PTY, no shell could `fg` us: opsdeck says so
    // instead of leaving the screen and coming straight back.
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn(&[]);
    wait_first_frame(&s);
    s.wait_for_text("PID");
    let mark = s.raw_len();
    s.send("\x1a");
    s.wait_for_text("suspend is unavailable");
    assert!(find_last(&s.raw()[mark..], LEAVE_ALT_SCREEN).is_none(), "left the screen for nothing");
    assert_ne!(process_state(s.pid()), Some('T'), "stopped in an orphaned process group?");
    s.send("2");
    wait_alerts_tab(&s);
    quit_cleanly(&mut s);
}

// Regression tests for bugs these tests once found.

/// A repaint (Ctrl-L, start-up, the return from Ctrl-Z) must not depend on the
/// terminal answering a cursor-position query: some never do, slow links
/// answer after crossterm's 2 s timeout.
#[test]
fn ctrl_l_without_a_cursor_position_reply_keeps_running() {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn(&[]);
    wait_first_frame(&s);
    s.answer_cursor_queries(false);
    s.send("\x0c");
    s.send("2");
    wait_alerts_tab(&s);
    quit_cleanly(&mut s);
}

/// At the minimum size the empty state's prose wraps; the snippet must follow
/// it, not clip it.
#[test]
fn empty_state_prose_is_not_clipped_at_the_minimum_size() {
    let sandbox = Sandbox::new();
    let config = sandbox.write("a-rather-long-config-file-name-for-wrapping.toml", "");
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", config.to_str().unwrap()], &[], 16, 60);
    wait_first_frame(&s);
    s.send("3");
    s.wait_for_text("[[clusters]]");
    s.wait_for_text("example):");
    quit_cleanly(&mut s);
}

/// At the minimum width of 60 columns all five tabs fit even with a warning
/// badge ("⚠N "). The config makes memory (always above 0 %) a warning.
#[test]
fn tab_bar_fits_the_minimum_width() {
    let sandbox = Sandbox::new();
    let config = sandbox.write("warn.toml", "[metrics.thresholds.memory]\nwarning = 0.0\ncritical = 100.0\n");
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", config.to_str().unwrap()], &[], 16, 60);
    // The badge comes with the first node sample.
    s.wait_for_text("1 Metrics ⚠");
    s.wait_for_text("5 Logs");
    quit_cleanly(&mut s);
}

#[test]
fn clicking_a_tab_title_opens_it() {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn(&[]);
    wait_first_frame(&s);
    // Badges arrive with the first samples and shift the titles, so the
    // column is read from the screen just before each click; a click that
    // raced a badge is retried.
    for _ in 0..5 {
        let screen = s.screen_text();
        let tab_bar = screen.lines().next().unwrap_or_default();
        let byte = tab_bar.find("3 Replication").expect("tab title");
        // Byte offset to a 1-based column: the bar before it holds multi-byte marks.
        let col = tab_bar[..byte].chars().count() + 2;
        // SGR mouse encoding: press and release of button 0 at (col, row 1).
        s.send(format!("\x1b[<0;{col};1M\x1b[<0;{col};1m"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
        while std::time::Instant::now() < deadline {
            if s.screen_text().contains("[[clusters]]") {
                quit_cleanly(&mut s);
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }
    panic!("a click on the tab title never opened it\n{}", s.dump());
}

#[test]
fn internal_log_opens_with_a_key_and_goes_to_a_file() {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn(&[]);
    wait_first_frame(&s);
    s.send("L");
    s.wait_for("the internal log with the start-up line", |t| {
        t.contains("opsdeck log") && t.contains("starting")
    });
    let log = sandbox.path().join("data/opsdeck/opsdeck.log");
    s.wait_for_cond("the log file to hold the start-up line", || {
        std::fs::read_to_string(&log).is_ok_and(|text| text.contains("starting"))
    });
    quit_cleanly(&mut s);
}

#[test]
fn the_state_store_is_created_on_first_run() {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn(&[]);
    wait_first_frame(&s);
    s.wait_for_text("store ✓");
    let db = sandbox.path().join("data/opsdeck/state.db");
    assert!(db.is_file(), "{} missing", db.display());
    quit_cleanly(&mut s);
}

#[test]
fn no_color_selects_mono_and_an_explicit_theme_wins() {
    let sandbox = Sandbox::new();
    let mut s = sandbox.spawn_with(&[], &[("NO_COLOR", "1")]);
    wait_first_frame(&s);
    s.wait_for_text("mono │");
    s.wait_for_text("PID");
    let raw = String::from_utf8_lossy(&s.raw()).into_owned();
    assert!(!raw.contains("\x1b[38;"), "NO_COLOR run set a foreground colour");
    quit_cleanly(&mut s);
    drop(s);

    let mut s = sandbox.spawn_with(&["--theme", "light"], &[("NO_COLOR", "1")]);
    wait_first_frame(&s);
    s.wait_for_text("light │");
    quit_cleanly(&mut s);
}

#[test]
fn an_unknown_theme_is_a_config_error() {
    let sandbox = Sandbox::new();
    let out = sandbox.command(["--theme", "neon"]).stdin(Stdio::null()).output().expect("run");
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no such theme; built in: dark, light, high-contrast, mono"), "{err}");
}

#[test]
fn completions_and_man_page() {
    let sandbox = Sandbox::new();
    for args in [&["completions", "bash"][..], &["man"][..]] {
        let out = sandbox.command(args).stdin(Stdio::null()).output().expect("run");
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8_lossy(&out.stdout);
        // roff escapes the dash in "read-only"; the subcommand name is plain.
        assert!(text.contains("opsdeck") && text.contains("completions"), "{args:?}: {text}");
    }
}

#[test]
fn maintenance_flag_file_shows_in_the_status_bar_and_clears() {
    let sandbox = Sandbox::new();
    let flag = sandbox.path().join("maintenance.flag");
    std::fs::write(&flag, "kernel upgrade by alice until 23:00\n").unwrap();
    let config =
        sandbox.write("maint.toml", &format!("[maintenance]\nflag_file = {:?}\n", flag.to_str().unwrap()));
    let mut s = sandbox.spawn(&["--config", config.to_str().unwrap()]);
    wait_first_frame(&s);
    s.wait_for_text("MAINTENANCE: kernel upgrade by alice");
    s.wait_for_text("maint ✓");
    std::fs::remove_file(&flag).unwrap();
    s.wait_for("the badge to clear", |t| !t.contains("MAINTENANCE") && t.contains("maint ✓"));
    quit_cleanly(&mut s);
}
