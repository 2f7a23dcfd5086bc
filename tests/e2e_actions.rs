//! End-to-end tests of the guarded-action pipeline: the real binary in a
//! real pseudo-terminal, driven through its keys (`x`, `:`, `A`, `a`, `/`),
//! with real target processes, real side effects and the audit trail read
//! back through `opsdeck audit` from the same state store.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use common::{Sandbox, Session, TIMEOUT, children_named, cpu_figure, process_state};
use serde_json::Value;

// ---------------------------------------------------------------------------
// Setup helpers
// ---------------------------------------------------------------------------

/// A TOML string literal for `path` (Debug quoting is TOML-compatible for
/// the plain paths a sandbox has).
fn toml_path(path: &Path) -> String {
    format!("{:?}", path.to_str().expect("a UTF-8 path"))
}

/// Write `body` as the sandbox's config and return the `--config` argument.
fn config(sandbox: &Sandbox, body: &str) -> String {
    sandbox.write("actions.toml", body).to_str().expect("a UTF-8 path").to_owned()
}

/// A node action with the confirm tier that creates `marker` when it runs.
fn touch_action(name: &str, marker: &Path) -> String {
    format!(
        "[[actions]]\nname = {name:?}\nlabel = \"Touch the marker\"\napplies_to = \"node\"\n\
         argv = [\"touch\", {}]\nguard = \"confirm\"\n\n",
        toml_path(marker)
    )
}

/// Wait until the cockpit is usable for actions: the process table is
/// filled and the state store is open (an action confirmed before the store
/// opens is refused, which is a different test).
#[track_caller]
fn wait_ready(s: &Session) -> String {
    s.wait_for("the process table and an open store", |t| t.contains("PID") && t.contains("store ✓"))
}

/// Quit with `q`; the exit code must be 0.
#[track_caller]
fn quit(s: &mut Session) {
    s.send("q");
    assert_eq!(s.wait_exit(), 0, "quit did not exit 0\n{}", s.dump());
}

/// Arm the session with `A` and wait for the countdown in the status bar.
#[track_caller]
fn arm(s: &mut Session) {
    s.send("A");
    // " ARMED 14:59 ": the notice says "ARMED for 15m", so match the countdown.
    s.wait_for("the ARMED countdown", |t| t.contains(" ARMED 14:") || t.contains(" ARMED 15:00"));
}

/// Open `action`'s dialog through the `:` command line.
#[track_caller]
fn open_by_command(s: &mut Session, action: &str) -> String {
    s.send(format!(":{action}\r"));
    s.wait_for(&format!("the dialog of {action}"), |t| t.contains(&format!(" {action} — ")))
}

/// Close the open overlay with Esc and wait until `gone` has left the
/// screen. Esc is sent alone and waited on: an Esc followed at once by
/// another key reads as Alt+key.
#[track_caller]
fn escape(s: &mut Session, gone: &str) {
    s.send("\x1b");
    s.wait_for(&format!("{gone:?} to leave the screen"), |t| !t.contains(gone));
}

/// Every row of `opsdeck audit --json`, newest first.
fn audit_json(sandbox: &Sandbox) -> Vec<Value> {
    let out = sandbox.command(["audit", "--json"]).stdin(Stdio::null()).output().expect("run opsdeck audit");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "opsdeck audit --json: {out:?}");
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
        .collect()
}

/// `opsdeck audit` as a table.
fn audit_table(sandbox: &Sandbox) -> String {
    let out = sandbox.command(["audit"]).stdin(Stdio::null()).output().expect("run opsdeck audit");
    assert!(out.status.success(), "opsdeck audit: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The one row of `rows` for `action`.
#[track_caller]
fn row_for<'r>(rows: &'r [Value], action: &str) -> &'r Value {
    let found: Vec<&Value> = rows.iter().filter(|r| r["action"] == action).collect();
    assert_eq!(found.len(), 1, "expected one audit row for {action}, got {found:#?}\nall rows: {rows:#?}");
    found[0]
}

/// A target process with a distinctive name: a copy of `sleep` run from a
/// temporary directory, so its kernel name (`comm`) is the copy's name.
/// Killed and reaped on drop.
struct TargetProcess {
    child: Child,
    _dir: tempfile::TempDir,
}

impl TargetProcess {
    fn spawn(name: &str) -> TargetProcess {
        assert!(name.len() <= 15, "{name} would be cut to 15 characters by the kernel");
        let dir = tempfile::Builder::new().prefix("opsdeck-target-").tempdir().expect("tempdir");
        let sleep = ["/bin/sleep", "/usr/bin/sleep"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.exists())
            .expect("a sleep binary");
        let exe = dir.path().join(name);
        std::fs::copy(sleep, &exe).expect("copy sleep");
        let child = Command::new(&exe)
            .arg("300")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the target");
        TargetProcess { child, _dir: dir }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Wait for it to exit; return how.
    #[track_caller]
    fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "target pid {} still runs after {timeout:?}", self.pid());
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kill it and reap it, so no trace of it is left in /proc.
    fn kill_and_reap(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for TargetProcess {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// Filter the process table to `name`, wait for the row of `pid`, and
/// select it (the first move selects the top row).
#[track_caller]
fn select_process(s: &mut Session, name: &str, pid: u32) {
    s.send(format!("/{name}\r"));
    let row = format!("{pid:>7}");
    s.wait_for(&format!("the row of {name} (pid {pid}) alone in the filtered table"), |t| {
        t.contains("Processes 1/") && t.lines().any(|l| l.contains(&row) && l.contains(name))
    });
    s.send("j");
}

/// Children of `parent` whose full command line is exactly `argv` (only
/// ours: another run of this suite may have the same command running).
fn children_with_cmdline(parent: i32, argv: &[&str]) -> Vec<i32> {
    let want: Vec<u8> = argv.iter().flat_map(|a| a.bytes().chain([0])).collect();
    let comm = Path::new(argv[0]).file_name().and_then(|n| n.to_str()).expect("a program name");
    children_named(parent, comm)
        .into_iter()
        .filter(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c == want))
        .collect()
}

/// Processes named `comm` that an action's supervisor started: actions
/// run under `opsdeck __supervise`, a child of the cockpit.
fn action_processes(cockpit: i32, comm: &str) -> Vec<i32> {
    children_named(cockpit, "opsdeck").into_iter().flat_map(|sup| children_named(sup, comm)).collect()
}

/// Kills the given pids on drop (processes a killed opsdeck left behind).
struct KillOnDrop(Vec<i32>);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        for &pid in &self.0 {
            if process_state(pid).is_some() {
                // SAFETY: kill(2) only reads its arguments.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
    }
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

/// The whole path through the keys: arm, filter, select, the `x` menu, the
/// type-the-name dialog, the run view with streamed output, the real side
/// effect (SIGTERM to the target), the audit overlay and its record, and the
/// same row through `opsdeck audit --json` after quitting.
#[test]
fn full_action_through_the_keys() {
    const NAME: &str = "odtarget42";
    let sandbox = Sandbox::new();
    let mut target = TargetProcess::spawn(NAME);
    let pid = target.pid();
    let cfg = config(
        &sandbox,
        r#"
[[actions]]
name = "node_hello"
label = "Say hello on the node"
applies_to = "node"
argv = ["echo", "hello"]
mutating = false

[[actions]]
name = "term_target"
label = "Terminate the process"
applies_to = "process"
guard = "type_name"
argv = ["sh", "-c", "echo terminating $1 $2; kill -TERM $1", "sh", "{pid}", "{name}"]
preconditions = ["memory_bytes < 1000000000"]
"#,
    );
    let mut s = sandbox.spawn(&["--config", &cfg]);
    wait_ready(&s);
    arm(&mut s);
    select_process(&mut s, NAME, pid);

    // The menu: node actions first, then the selected process's.
    s.send("x");
    let menu = s.wait_for("the action menu with both targets", |t| {
        t.contains("Actions — Enter opens") && t.contains(&format!("→ process {NAME}"))
    });
    let node_line = menu.lines().position(|l| l.contains("Say hello on the node")).expect("node action");
    let proc_line = menu.lines().position(|l| l.contains("Terminate the process")).expect("process action");
    assert!(node_line < proc_line, "node actions should come first\n{menu}");
    s.send("j\r");
    let dialog =
        s.wait_for("the term_target dialog", |t| t.contains(" term_target — Terminate the process "));
    assert!(dialog.contains("will do"), "{dialog}");
    assert!(
        dialog.contains(&format!("sh {pid} {NAME}")),
        "the preview does not show the real pid and name\n{dialog}"
    );
    assert!(dialog.contains("✓ memory_bytes < 1000000000"), "{dialog}");
    assert!(dialog.contains(&format!("Type the target's name ({NAME}) to confirm.")), "{dialog}");
    assert!(!dialog.contains("not armed"), "armed, yet the dialog warns\n{dialog}");
    assert!(!dialog.contains("confirm disabled"), "{dialog}");

    // A wrong name is refused in place.
    s.send("odtarget4\r");
    s.wait_for_text("the name does not match");
    assert_eq!(process_state(pid as i32).map(|c| c != 'Z'), Some(true), "the target died on a wrong name");

    s.send("2\r");
    let run = s.wait_for("the run to finish", |t| t.contains("exit 0 after"));
    assert!(run.contains(&format!("term_target on {NAME}")) && run.contains("Esc closes"), "{run}");
    assert!(run.contains(&format!("terminating {pid} {NAME}")), "no streamed output\n{run}");
    assert!(run.contains("audit row #"), "{run}");

    let status = target.wait_exit(TIMEOUT);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "the target did not die of SIGTERM: {status:?}");

    // The audit overlay, then one row's record.
    escape(&mut s, "Esc closes");
    s.send("a");
    let trail = s.wait_for("the audit trail with the run", |t| {
        t.contains("Audit trail") && t.lines().any(|l| l.contains("term_target") && l.contains("exit 0"))
    });
    assert!(trail.contains(NAME), "{trail}");
    s.send("\r");
    let record = s.wait_for("the row's record", |t| t.contains("Audit row #") && t.contains("preview"));
    assert!(record.contains(&format!("sh {pid} {NAME}")), "the record's preview lacks the pid\n{record}");
    assert!(record.contains("confirmed"), "{record}");
    escape(&mut s, "Audit row #");
    escape(&mut s, "Audit trail");
    quit(&mut s);

    let rows = audit_json(&sandbox);
    let row = row_for(&rows, "term_target");
    assert_eq!(row["guard"], "confirmed", "{row:#}");
    assert_eq!(row["ending"], "exit 0", "{row:#}");
    assert_eq!(row["target_name"], NAME, "{row:#}");
    assert_eq!(row["target_kind"], "process", "{row:#}");
    let preview = row["preview"].as_str().expect("a preview");
    assert!(preview.contains(&format!("sh {pid} {NAME}")), "{row:#}");
    let excerpt = row["output_excerpt"].as_str().expect("an output excerpt");
    assert!(excerpt.contains(&format!("terminating {pid} {NAME}")), "{row:#}");
    assert!(row["finished_at"].is_string(), "{row:#}");
}

/// A mutating action is refused when the session is not armed, and in
/// read-only mode (where arming itself is refused); both refusals are
/// audited and neither runs the command.
#[test]
fn unarmed_and_read_only_refusals_are_audited() {
    let sandbox = Sandbox::new();
    let marker = sandbox.path().join("marker");
    let peek = "[[actions]]\nname = \"peek\"\nlabel = \"Look only\"\napplies_to = \"node\"\n\
                argv = [\"echo\", \"peeked\"]\nmutating = false\n";
    let cfg = config(&sandbox, &format!("{}{peek}", touch_action("touch_marker", &marker)));

    // (a) Not armed.
    let mut s = sandbox.spawn(&["--config", &cfg]);
    wait_ready(&s);
    let dialog = open_by_command(&mut s, "touch_marker");
    assert!(dialog.contains("not armed: it will be refused"), "{dialog}");
    assert!(dialog.contains("Run it? [y] yes"), "{dialog}");
    s.send("y");
    let run = s.wait_for_text("refused: the session is not armed (arm it, then try again)");
    assert!(run.contains("audit row #"), "the refusal has no audit row\n{run}");
    assert!(!marker.exists(), "an unarmed session ran the action");
    escape(&mut s, "Esc closes");
    quit(&mut s);
    drop(s);

    // (b) Read-only: arming is refused, and so is the action.
    let mut s = sandbox.spawn(&["--config", &cfg, "--read-only"]);
    wait_ready(&s);
    s.wait_for_text("READ-ONLY");
    s.send("A");
    let screen = s.wait_for_text("read-only mode: the session cannot be armed");
    assert!(!screen.contains(" ARMED "), "armed in read-only mode\n{screen}");
    let dialog = open_by_command(&mut s, "touch_marker");
    assert!(dialog.contains("read-only mode: this mutating action will be refused"), "{dialog}");
    s.send("y");
    s.wait_for_text("refused: opsdeck is read-only (--read-only or read_only = true)");
    assert!(!marker.exists(), "read-only mode ran the action");
    escape(&mut s, "Esc closes");
    // A non-mutating action still runs in read-only mode.
    let dialog = open_by_command(&mut s, "peek");
    assert!(!dialog.contains("will be refused"), "{dialog}");
    s.send("y");
    let run = s.wait_for_text("exit 0 after");
    assert!(run.contains("peeked"), "{run}");
    escape(&mut s, "Esc closes");
    quit(&mut s);

    let mut rows = audit_json(&sandbox);
    assert_eq!(row_for(&rows, "peek")["ending"], "exit 0");
    rows.retain(|r| r["action"] != "peek");
    let guards: Vec<&str> = rows.iter().filter_map(|r| r["guard"].as_str()).collect();
    assert_eq!(guards, ["refused: read-only", "refused: not armed"], "newest first\n{rows:#?}");
    for row in &rows {
        assert_eq!(row["action"], "touch_marker", "{row:#}");
        assert!(row["ending"].is_null(), "a refusal has no ending: {row:#}");
        assert_eq!(row["outcome"], row["guard"], "{row:#}");
    }
    assert!(!marker.exists());
}

/// Enter in a confirm-tier dialog answers no; that is audited as cancelled.
#[test]
fn backing_out_is_audited_as_cancelled() {
    let sandbox = Sandbox::new();
    let marker = sandbox.path().join("marker");
    let cfg = config(&sandbox, &touch_action("touch_marker", &marker));
    let mut s = sandbox.spawn(&["--config", &cfg]);
    wait_ready(&s);
    arm(&mut s);
    open_by_command(&mut s, "touch_marker");
    s.send("\r");
    s.wait_for("the dialog to close", |t| !t.contains("Run it?") && !t.contains("touch_marker —"));
    s.send("a");
    s.wait_for("the cancelled row in the audit trail", |t| {
        t.lines().any(|l| l.contains("touch_marker") && l.contains("cancelled"))
    });
    escape(&mut s, "Audit trail");
    quit(&mut s);

    assert!(!marker.exists(), "backing out ran the action");
    let rows = audit_json(&sandbox);
    let row = row_for(&rows, "touch_marker");
    assert_eq!(row["guard"], "cancelled", "{row:#}");
    assert!(row["ending"].is_null(), "{row:#}");
}

/// SIGKILL while an action runs: the row has no finish. The next start
/// says so in the status bar, and `opsdeck audit` says "outcome unknown".
#[test]
fn kill_9_mid_action_leaves_outcome_unknown() {
    // A duration no other test uses, to find the orphan by its command line.
    const SECS: &str = "21.4242";
    let sandbox = Sandbox::new();
    let cfg = config(
        &sandbox,
        &format!(
            "[[actions]]\nname = \"sleep_long\"\nlabel = \"Sleep a while\"\napplies_to = \"node\"\n\
             argv = [\"sleep\", \"{SECS}\"]\nmutating = false\n"
        ),
    );
    let mut s = sandbox.spawn(&["--config", &cfg]);
    wait_ready(&s);
    let dialog = open_by_command(&mut s, "sleep_long");
    assert!(dialog.contains("read-only: changes nothing"), "{dialog}");
    assert!(!dialog.contains("not armed"), "a non-mutating action needs no arming\n{dialog}");
    s.send("y");
    s.wait_for("the action to run", |t| t.contains("running") && t.contains("Ctrl-C cancels"));
    let mut orphans = Vec::new();
    s.wait_for_cond("the action's sleep process, under its supervisor", || {
        let supervisors = children_named(s.pid(), "opsdeck");
        orphans = supervisors.iter().flat_map(|&sup| children_with_cmdline(sup, &["sleep", SECS])).collect();
        orphans.extend(supervisors);
        orphans.len() > 1
    });
    let orphans = KillOnDrop(orphans);
    // While it runs: the trail shows the row as running at once, and another
    // terminal's `opsdeck audit` knows this cockpit is alive.
    escape(&mut s, "Ctrl-C cancels");
    s.send("a");
    s.wait_for("the running row in the audit trail", |t| {
        t.lines().any(|l| l.contains("sleep_long") && l.trim_end_matches('│').trim_end().ends_with("running"))
    });
    escape(&mut s, "Audit trail");
    let table = audit_table(&sandbox);
    let line = table.lines().find(|l| l.contains("sleep_long")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.trim_end().ends_with("running in another opsdeck"), "{table}");

    let pid = s.pid();
    s.signal(libc::SIGKILL);
    s.wait_for_cond("opsdeck to die", || matches!(process_state(pid), None | Some('Z')));
    // Its supervisor survived the cockpit (and would end it at its timeout);
    // clean both up now, so the next cockpit finds no live run.
    let pids = orphans.0.clone();
    drop(orphans);
    s.wait_for_cond("the orphaned run to be gone", || {
        pids.iter().all(|&pid| matches!(process_state(pid), None | Some('Z')))
    });
    drop(s);

    let mut s = sandbox.spawn_sized(&[common::BIN, "--config", &cfg], &[], 30, 200);
    let screen = s.wait_for("the unknown outcome in the status bar", |t| t.contains("⚠ 1 outcome unknown"));
    s.wait_for_text("no recorded outcome");
    assert!(screen.contains("store ✓"), "{screen}");
    s.send("a");
    s.wait_for("the row in the audit trail", |t| {
        t.lines().any(|l| l.contains("sleep_long") && l.contains("outcome unknown"))
    });
    escape(&mut s, "Audit trail");
    quit(&mut s);

    let table = audit_table(&sandbox);
    let line = table.lines().find(|l| l.contains("sleep_long")).unwrap_or_else(|| panic!("{table}"));
    assert!(line.trim_end().ends_with("outcome unknown"), "{table}");
    let rows = audit_json(&sandbox);
    let row = row_for(&rows, "sleep_long");
    assert_eq!(row["guard"], "confirmed", "{row:#}");
    assert!(row["ending"].is_null() && row["finished_at"].is_null(), "{row:#}");
}

/// Ctrl-C in the run view cancels a running action: its whole process
/// group goes (a backgrounded grandchild too), and the trail says so.
#[test]
fn ctrl_c_in_the_run_view_cancels_the_process_group() {
    // A duration no other test uses, to find the grandchild by its command line.
    const SECS: &str = "31.4159";
    let sandbox = Sandbox::new();
    let cfg = config(
        &sandbox,
        &format!(
            "[[actions]]\nname = \"sleep_group\"\nlabel = \"Sleep in a group\"\napplies_to = \"node\"\n\
             argv = [\"sh\", \"-c\", \"sleep {SECS} & echo started; wait\"]\nmutating = false\n"
        ),
    );
    let mut s = sandbox.spawn(&["--config", &cfg]);
    wait_ready(&s);
    open_by_command(&mut s, "sleep_group");
    s.send("y");
    s.wait_for("the action to run and print", |t| t.contains("Ctrl-C cancels") && t.contains("started"));
    let mut sleepers = Vec::new();
    s.wait_for_cond("the backgrounded sleep, a grandchild", || {
        sleepers = action_processes(s.pid(), "sh")
            .into_iter()
            .flat_map(|sh| children_with_cmdline(sh, &["sleep", SECS]))
            .collect();
        !sleepers.is_empty()
    });
    let sleepers = KillOnDrop(sleepers);

    s.send("\x03");
    let run = s.wait_for("the cancelled run", |t| t.contains("cancelled while running after"));
    assert!(run.contains("sleep_group on"), "the run view closed instead\n{run}");
    s.wait_for_cond("the grandchild to be killed with its group", || {
        sleepers.0.iter().all(|&pid| matches!(process_state(pid), None | Some('Z')))
    });
    escape(&mut s, "Esc closes");
    quit(&mut s);

    let rows = audit_json(&sandbox);
    let row = row_for(&rows, "sleep_group");
    assert_eq!(row["guard"], "confirmed", "{row:#}");
    assert_eq!(row["ending"], "cancelled while running", "{row:#}");
}

/// No audit store, no run: with the data directory under a regular file
/// (so not even root can create it) an armed, confirmed action is refused.
#[test]
fn an_unopenable_store_refuses_to_run() {
    let sandbox = Sandbox::new();
    let marker = sandbox.path().join("marker");
    let blocker = sandbox.write("not-a-dir", "a regular file\n");
    let data_home = blocker.join("data");
    let cfg = config(&sandbox, &touch_action("touch_marker", &marker));
    let mut s = sandbox.spawn_with(&["--config", &cfg], &[("XDG_DATA_HOME", data_home.to_str().unwrap())]);
    s.wait_for("the store to fail", |t| t.contains("PID") && t.contains("store ✗"));
    arm(&mut s);
    open_by_command(&mut s, "touch_marker");
    s.send("y");
    let run = s.wait_for_text("the audit store is not open: the action will not run");
    assert!(!run.contains("audit row #"), "{run}");
    assert!(!marker.exists(), "the action ran without an audit store");
    escape(&mut s, "Esc closes");
    s.send("a");
    s.wait_for_text("the store is not open: no action can run");
    escape(&mut s, "Audit trail");
    quit(&mut s);
    assert!(!marker.exists());
    assert!(blocker.is_file(), "the blocking file was replaced");
}

/// The dialog re-evaluates its preconditions as data arrives: creating the
/// maintenance flag turns ✗ into ✓ and enables confirming.
#[test]
fn preconditions_refresh_while_the_dialog_is_open() {
    let sandbox = Sandbox::new();
    let flag = sandbox.path().join("maintenance.flag");
    let cfg = config(
        &sandbox,
        &format!(
            "refresh = \"1s\"\n\n[maintenance]\nflag_file = {}\n\n[[actions]]\nname = \"needs_maint\"\n\
             label = \"Only in maintenance\"\napplies_to = \"node\"\nargv = [\"true\"]\n\
             preconditions = [\"maintenance == true\"]\n",
            toml_path(&flag)
        ),
    );
    let mut s = sandbox.spawn(&["--config", &cfg]);
    wait_ready(&s);
    s.wait_for_text("maint ✓");
    let dialog = open_by_command(&mut s, "needs_maint");
    assert!(dialog.contains("✗ maintenance == true"), "{dialog}");
    assert!(dialog.contains("now false"), "{dialog}");
    assert!(dialog.contains("confirm disabled: 1 precondition(s) fail"), "{dialog}");

    std::fs::write(&flag, "drill by the e2e test\n").unwrap();
    let dialog = s.wait_for_within("the precondition to pass", Duration::from_secs(10), |t| {
        t.contains("✓ maintenance == true") && !t.contains("confirm disabled")
    });
    assert!(dialog.contains("now true"), "{dialog}");
    assert!(dialog.contains(" needs_maint — "), "the dialog closed\n{dialog}");

    // And back: removing the flag disables confirming again.
    std::fs::remove_file(&flag).unwrap();
    s.wait_for_within("the precondition to fail again", Duration::from_secs(10), |t| {
        t.contains("✗ maintenance == true") && t.contains("confirm disabled: 1 precondition(s) fail")
    });
    escape(&mut s, "needs_maint —");
    quit(&mut s);
}

/// The executor re-reads a process target before running it: a target that
/// died after the dialog opened aborts the action. The node source polls
/// once an hour here, so the dialog cannot learn of the death itself and
/// only the executor's re-read can stop it.
#[test]
fn the_target_vanishing_aborts() {
    const NAME: &str = "odvanish47";
    let sandbox = Sandbox::new();
    let mut target = TargetProcess::spawn(NAME);
    let pid = target.pid();
    let marker_dir = sandbox.path().join("markers");
    std::fs::create_dir(&marker_dir).unwrap();
    let cfg = config(
        &sandbox,
        &format!(
            "refresh = \"1h\"\n\n[[actions]]\nname = \"vanish_target\"\nlabel = \"Touch for the process\"\n\
             applies_to = \"process\"\nguard = \"type_name\"\nargv = [\"touch\", {}]\n",
            toml_path(&marker_dir.join("marker-{pid}"))
        ),
    );
    let mut s = sandbox.spawn(&["--config", &cfg]);
    wait_ready(&s);
    // The second sample (CPU measured) is the last one for an hour.
    s.wait_for("the second node sample", |t| cpu_figure(t).is_some());
    arm(&mut s);
    select_process(&mut s, NAME, pid);

    // The `:` line with Tab completion.
    s.send(":vanish_t\t");
    s.wait_for_text(":vanish_target█");
    s.send("\r");
    let dialog = s.wait_for_text(" vanish_target — Touch for the process ");
    assert!(dialog.contains(&format!("process {NAME}")), "the dialog is not on the process\n{dialog}");
    assert!(dialog.contains(&format!("marker-{pid}")), "{dialog}");

    s.send(NAME);
    s.wait_for_text(&format!("name: {NAME}█"));
    target.kill_and_reap();
    assert_eq!(process_state(pid as i32), None, "the target is still in /proc");
    s.send("\r");
    let run = s.wait_for("the abort", |t| t.contains("aborted:"));
    assert!(run.contains(&format!("aborted: {NAME} is gone")), "{run}");
    assert!(run.contains("audit row #"), "{run}");
    let entries: Vec<_> = std::fs::read_dir(&marker_dir).unwrap().collect();
    assert!(entries.is_empty(), "the action ran on a vanished target: {entries:?}");
    escape(&mut s, "Esc closes");
    quit(&mut s);

    let rows = audit_json(&sandbox);
    let row = row_for(&rows, "vanish_target");
    assert_eq!(row["guard"], "aborted: target changed", "{row:#}");
    assert!(row["ending"].is_null(), "{row:#}");
    assert_eq!(row["target_name"], NAME, "{row:#}");
}

/// `[audit] mirror_file` gets one JSON line when the attempt is written and
/// one when it finishes, for the same row.
#[test]
fn mirror_file_gets_json_lines() {
    let sandbox = Sandbox::new();
    let mirror: PathBuf = sandbox.path().join("audit-mirror.jsonl");
    let cfg = config(
        &sandbox,
        &format!(
            "[audit]\nmirror_file = {}\n\n[[actions]]\nname = \"say_mirrored\"\nlabel = \"Echo\"\n\
             applies_to = \"node\"\nargv = [\"echo\", \"mirrored output\"]\nmutating = false\n",
            toml_path(&mirror)
        ),
    );
    let mut s = sandbox.spawn(&["--config", &cfg]);
    wait_ready(&s);
    open_by_command(&mut s, "say_mirrored");
    s.send("y");
    let run = s.wait_for_text("exit 0 after");
    assert!(run.contains("mirrored output"), "{run}");
    escape(&mut s, "Esc closes");
    quit(&mut s);

    let text = std::fs::read_to_string(&mirror).expect("the mirror file exists");
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("mirror line is not JSON ({e}): {l:?}")))
        .collect();
    assert_eq!(lines.len(), 2, "{text}");
    let (attempt, finish) = (&lines[0], &lines[1]);
    assert_eq!(attempt["event"], "attempt", "{text}");
    assert_eq!(finish["event"], "finish", "{text}");
    assert!(attempt["id"].is_i64(), "{text}");
    assert_eq!(attempt["id"], finish["id"], "{text}");
    for l in &lines {
        assert_eq!(l["action"], "say_mirrored", "{text}");
        assert_eq!(l["guard"], "confirmed", "{text}");
    }
    assert!(attempt["ending"].is_null(), "{text}");
    assert_eq!(finish["ending"], "exit 0", "{text}");
    assert!(finish["output_excerpt"].as_str().is_some_and(|e| e.contains("mirrored output")), "{text}");

    // The store agrees with the mirror.
    let rows = audit_json(&sandbox);
    assert_eq!(row_for(&rows, "say_mirrored")["id"], finish["id"]);
}
