//! An action outlives a `kill -9` of its cockpit only until its own
//! timeout, and cannot be started again beside itself meanwhile: the real
//! binary in real pseudo-terminals, two cockpits on one state store, a real
//! `sleep` as the action.

mod common;

use std::time::{Duration, Instant};

use common::{Sandbox, Session, children_named, process_state};

/// A duration no other test uses, to find the action by its command line.
const SECS: &str = "30.2718";

/// The action's timeout: long enough for the second cockpit's attempt to
/// land while it runs, short enough to wait out.
const TIMEOUT_SECS: u64 = 8;

fn alive(pid: i32) -> bool {
    !matches!(process_state(pid), None | Some('Z'))
}

#[track_caller]
fn wait_ready(s: &Session) {
    s.wait_for("the process table and an open store", |t| t.contains("PID") && t.contains("store ✓"));
}

#[track_caller]
fn start_hold(s: &mut Session) {
    s.send(":hold\r");
    s.wait_for("the dialog of hold", |t| t.contains(" hold — "));
    s.send("y");
}

/// Kills the given pids on drop, whatever the test did.
struct KillOnDrop(Vec<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &pid in &self.0 {
            if alive(pid) {
                // SAFETY: kill(2) only reads its arguments; these are this test's processes.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

fn cmdline_is(pid: i32, argv: &[&str]) -> bool {
    let want: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want)
}

fn audit_table(sandbox: &Sandbox) -> String {
    let out = sandbox.command(["audit"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn a_run_orphaned_by_kill_9_ends_at_its_timeout_and_meanwhile_refuses_a_second_run() {
    let sandbox = Sandbox::new();
    let cfg = sandbox.write(
        "actions.toml",
        &format!(
            "[[actions]]\nname = \"hold\"\nlabel = \"Hold the node\"\napplies_to = \"node\"\n\
             argv = [\"sleep\", \"{SECS}\"]\nmutating = false\ntimeout = \"{TIMEOUT_SECS}s\"\n"
        ),
    );
    let cfg = cfg.to_str().unwrap();
    // Wide, so the refusal's whole sentence fits on a line.
    // One after the other: the first creates and migrates the store.
    let mut first = sandbox.spawn_sized(&[common::BIN, "--config", cfg], &[], 30, 200);
    wait_ready(&first);
    let mut second = sandbox.spawn_sized(&[common::BIN, "--config", cfg], &[], 30, 200);
    wait_ready(&second);

    start_hold(&mut first);
    let started = Instant::now();
    first.wait_for("the action to run", |t| t.contains("Ctrl-C cancels"));
    let (mut supervisor, mut sleep) = (0, 0);
    first.wait_for_cond("the supervisor and its sleep", || {
        for sup in children_named(first.pid(), "opsdeck") {
            if let Some(&child) =
                children_named(sup, "sleep").iter().find(|&&c| cmdline_is(c, &["sleep", SECS]))
            {
                (supervisor, sleep) = (sup, child);
                return true;
            }
        }
        false
    });
    let _cleanup = KillOnDrop(vec![sleep, supervisor]);
    let cmdline = std::fs::read(format!("/proc/{supervisor}/cmdline")).unwrap();
    assert!(String::from_utf8_lossy(&cmdline).contains("__supervise"), "{cmdline:?}");

    let cockpit = first.pid();
    first.signal(libc::SIGKILL);
    first.wait_for_cond("the first cockpit to die", || !alive(cockpit));
    assert!(alive(sleep) && alive(supervisor), "the run is still within its timeout");

    // The second cockpit's attempt on the same node: busy, and says with what.
    start_hold(&mut second);
    let screen = second.wait_for("the busy refusal", |t| t.contains("refused: busy"));
    assert!(alive(sleep), "the refusal came after the run ended: the test proves nothing");
    let busy_with = format!("still runs as pid {supervisor}");
    assert!(screen.contains("another action is running on") && screen.contains(&busy_with), "{screen}");

    // Its supervisor ends it at the timeout, with opsdeck gone.
    let deadline = started + Duration::from_secs(TIMEOUT_SECS) + Duration::from_secs(10);
    while (alive(sleep) || alive(supervisor)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!("the orphaned run was gone {:?} after it started (timeout {TIMEOUT_SECS}s)", started.elapsed());
    assert!(!alive(sleep), "the action outlived its timeout without its cockpit");
    assert!(!alive(supervisor), "the supervisor outlived its action");

    // The trail: the orphan's outcome is unknown (nobody saw it end), the second attempt refused as busy.
    let table = audit_table(&sandbox);
    let rows: Vec<&str> = table.lines().filter(|l| l.contains(" hold ")).collect();
    assert_eq!(rows.len(), 2, "{table}");
    assert!(rows[0].ends_with("refused: busy"), "{table}");
    assert!(rows[1].ends_with("outcome unknown"), "{table}");
}

#[test]
fn an_orphaned_run_that_keeps_printing_is_not_killed_by_its_dead_cockpits_pipe() {
    let sandbox = Sandbox::new();
    let marker = sandbox.path().join("finished");
    // Prints for a while after its cockpit dies, then leaves a marker: with
    // its output on the dead cockpit's pipe it would die of SIGPIPE first.
    let script = format!(
        "echo begun-7f3a; sleep 1; i=0; while [ $i -lt 40 ]; do echo tick $i; i=$((i+1)); sleep 0.02; done; touch {}",
        marker.display()
    );
    let cfg = sandbox.write(
        "actions.toml",
        &format!(
            "[[actions]]\nname = \"hold\"\nlabel = \"Hold\"\napplies_to = \"node\"\n\
             argv = [\"sh\", \"-c\", {script:?}]\nmutating = false\ntimeout = \"30s\"\n"
        ),
    );
    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", cfg.to_str().unwrap()], &[], 30, 200);
    wait_ready(&s);
    start_hold(&mut s);
    // Its first line: the command really runs (the supervisor starts it
    // only once the audit row names it).
    s.wait_for("the action to run and print", |t| t.contains("Ctrl-C cancels") && t.contains("begun-7f3a"));
    let mut supervisors = Vec::new();
    s.wait_for_cond("its supervisor", || {
        supervisors = children_named(s.pid(), "opsdeck");
        !supervisors.is_empty()
    });
    let _cleanup = KillOnDrop(supervisors.clone());
    let cockpit = s.pid();
    s.signal(libc::SIGKILL);
    s.wait_for_cond("the cockpit to die", || !alive(cockpit));
    drop(s); // its pseudo-terminal and pipes close with it
    let deadline = Instant::now() + Duration::from_secs(20);
    while !marker.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if !marker.exists() {
        let ps = std::process::Command::new("ps")
            .args(["-eo", "pid,ppid,pgid,stat,wchan:20,args"])
            .output()
            .unwrap();
        let ps = String::from_utf8_lossy(&ps.stdout);
        let mine: Vec<&str> = ps
            .lines()
            .filter(|l| l.contains("begun-7f3a") || l.contains("__supervise") || l.contains("sleep 0.02"))
            .collect();
        eprintln!("DEBUG supervisors {supervisors:?}\n{}", mine.join("\n"));
    }
    assert!(marker.exists(), "the command died before it finished (SIGPIPE on the dead cockpit's pipe?)");
    let deadline = Instant::now() + Duration::from_secs(5);
    while alive(supervisors[0]) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!alive(supervisors[0]), "the supervisor outlived its command");
}
