//! The action runner against real processes: no shell between the config and
//! the program, and nothing left running after a timeout or a cancel.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use opsdeck::ops::argv;
use opsdeck::ops::run::{EXCERPT_BYTES, Ending, RunSpec, Stream, run};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Every run in these tests goes through the real binary's supervisor, as
/// the cockpit's do.
fn spec(argv: &[&str], timeout: Duration) -> RunSpec {
    opsdeck::ops::run::use_supervisor(env!("CARGO_BIN_EXE_opsdeck").into());
    RunSpec {
        argv: argv.iter().map(|s| s.to_string()).collect(),
        timeout,
        cwd: None,
        env: Vec::new(),
        stdin: None,
    }
}

fn alive(pid: i32) -> bool {
    // A zombie is dead for our purposes; /proc/PID/stat's third field says.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit(')').next().and_then(|rest| rest.split_whitespace().next()).map(|st| st != "Z")
        })
        .unwrap_or(false)
}

/// Wait up to 5 s for a pid to be gone.
async fn gone(pid: i32) -> bool {
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if !alive(pid) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

#[tokio::test]
async fn injection_strings_arrive_as_literal_arguments() {
    let nasty = ["; rm -rf /", "$(reboot)", "`id`", "a\nb", "-n", "--help", "*", "' \" \\"];
    for value in nasty {
        let fields = BTreeMap::from([("target".to_string(), value.to_string())]);
        let template: Vec<String> = ["printf", "[%s]", "{target}"].iter().map(|s| s.to_string()).collect();
        let rendered = argv::render(&template, &fields).unwrap();
        assert_eq!(rendered.len(), 3, "{value:?} split into several arguments");
        let (tx, _rx) = mpsc::channel(64);
        let out = run(
            &RunSpec { argv: rendered, ..spec(&[], Duration::from_secs(10)) },
            &CancellationToken::new(),
            &tx,
        )
        .await;
        assert_eq!(out.ending, Ending::Exited(0), "{value:?}");
        assert_eq!(out.excerpt, format!("[{value}]\n"), "{value:?} did not arrive literally");
    }
}

#[tokio::test]
async fn exit_status_and_both_streams_are_reported() {
    let (tx, mut rx) = mpsc::channel(64);
    let out = run(
        &spec(&["sh", "-c", "echo out; echo err >&2; exit 3"], Duration::from_secs(10)),
        &CancellationToken::new(),
        &tx,
    )
    .await;
    assert_eq!(out.ending, Ending::Exited(3));
    let mut got = Vec::new();
    while let Ok(line) = rx.try_recv() {
        got.push(line);
    }
    got.sort_by_key(|(s, _)| *s == Stream::Stderr);
    assert_eq!(got, [(Stream::Stdout, "out".to_string()), (Stream::Stderr, "err".to_string())]);
}

/// The command prints its background grandchild's pid, then hangs.
const FORKS_A_GRANDCHILD: &str = "sleep 300 & echo $!; wait";

async fn grandchild_pid(rx: &mut mpsc::Receiver<(Stream, String)>) -> i32 {
    let (_, line) = tokio::time::timeout(Duration::from_secs(5), rx.recv()).await.unwrap().unwrap();
    line.trim().parse().unwrap()
}

#[tokio::test]
async fn a_timeout_kills_the_whole_process_group() {
    let (tx, mut rx) = mpsc::channel(64);
    let s = spec(&["sh", "-c", FORKS_A_GRANDCHILD], Duration::from_millis(500));
    let cancel = CancellationToken::new();
    let running = tokio::spawn(async move { run(&s, &cancel, &tx).await });
    let grandchild = grandchild_pid(&mut rx).await;
    assert!(alive(grandchild));
    let out = running.await.unwrap();
    assert_eq!(out.ending, Ending::TimedOut);
    assert!(out.duration >= Duration::from_millis(500));
    assert!(gone(grandchild).await, "grandchild {grandchild} survived the timeout");
}

#[tokio::test]
async fn cancel_kills_the_whole_process_group_even_if_it_ignores_sigterm() {
    let (tx, mut rx) = mpsc::channel(64);
    let s = spec(&["sh", "-c", "trap '' TERM; sleep 300 & echo $!; wait"], Duration::from_secs(60));
    let cancel = CancellationToken::new();
    let c2 = cancel.clone();
    let running = tokio::spawn(async move { run(&s, &c2, &tx).await });
    let grandchild = grandchild_pid(&mut rx).await;
    cancel.cancel();
    let out = running.await.unwrap();
    assert_eq!(out.ending, Ending::Cancelled);
    assert!(gone(grandchild).await, "grandchild {grandchild} survived the cancel");
}

#[tokio::test]
async fn a_missing_program_is_a_clear_spawn_failure() {
    let (tx, _rx) = mpsc::channel(1);
    let out = run(
        &spec(&["/nonexistent/opsdeck-no-such-tool", "x"], Duration::from_secs(5)),
        &CancellationToken::new(),
        &tx,
    )
    .await;
    match out.ending {
        Ending::SpawnFailed(why) => {
            assert!(why.contains("opsdeck-no-such-tool") && why.contains("No such file"), "{why}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn the_excerpt_keeps_the_tail_and_a_leftover_background_process_does_not_hang_the_run() {
    // A view that never reads must not stall the command: one slot, never drained
    // (it ends up holding the first line, the leftover's pid).
    let (tx, mut rx) = mpsc::channel(1);
    let script = "sleep 300 & echo $!; i=0; while [ $i -lt 2000 ]; do echo line-$i; i=$((i+1)); done";
    let started = Instant::now();
    let out =
        run(&spec(&["sh", "-c", script], Duration::from_secs(30)), &CancellationToken::new(), &tx).await;
    assert_eq!(out.ending, Ending::Exited(0));
    assert!(started.elapsed() < Duration::from_secs(10), "waited on the background sleep");
    assert!(out.excerpt.len() <= EXCERPT_BYTES && out.excerpt_truncated);
    assert!(out.excerpt.ends_with("line-1999\n"), "{}", &out.excerpt[out.excerpt.len() - 40..]);
    // A normal exit leaves background processes alone (a command may start a
    // daemon on purpose); kill this one ourselves.
    let (_, first) = rx.try_recv().unwrap();
    let leftover: i32 = first.trim().parse().unwrap();
    assert!(alive(leftover), "a normal exit must not kill what the command left running");
    // SAFETY: plain kill(2) of the pid this test's own command printed.
    unsafe {
        libc::kill(leftover, libc::SIGKILL);
    }
}

#[tokio::test]
async fn cwd_and_env_are_applied() {
    let dir = tempfile::tempdir().unwrap();
    let (tx, _rx) = mpsc::channel(8);
    let mut s = spec(&["sh", "-c", "pwd; echo $OPSDECK_ACTION"], Duration::from_secs(10));
    s.cwd = Some(dir.path().to_path_buf());
    s.env = vec![("OPSDECK_ACTION".into(), "restart".into())];
    let out = run(&s, &CancellationToken::new(), &tx).await;
    let canonical = dir.path().canonicalize().unwrap();
    assert_eq!(out.excerpt, format!("{}\nrestart\n", canonical.display()));
}

#[tokio::test]
async fn stdin_text_is_fed_and_closed() {
    let (tx, _rx) = mpsc::channel(8);
    let mut s = spec(&["cat"], Duration::from_secs(10));
    s.stdin = Some("disable server web/web1; reboot\n".into());
    let out = run(&s, &CancellationToken::new(), &tx).await;
    assert_eq!(out.ending, Ending::Exited(0), "cat must see end of input");
    assert_eq!(out.excerpt, "disable server web/web1; reboot\n");
}

/// `opsdeck __supervise` with its go fd at EOF (the cockpit died before the
/// run's process was recorded) starts nothing; with the go byte, it runs.
#[test]
fn the_supervisor_starts_the_command_only_on_the_go_byte() {
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let supervise = |go: &str| {
        // The shell only wires fds 3 and 4 for the test, as the cockpit does.
        let script = format!(
            "{go} \"$0\" __supervise --timeout-ms 5000 --status-fd 3 --go-fd 4 -- touch \"$1\" 3>&1 4<&0"
        );
        std::process::Command::new("sh")
            .args(["-c", &script, env!("CARGO_BIN_EXE_opsdeck")])
            .arg(&marker)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let refused = supervise("exec </dev/null;");
    assert_eq!(refused.status.code(), Some(127));
    let report = String::from_utf8_lossy(&refused.stdout);
    assert!(report.starts_with("spawn-failed not started"), "{report}");
    assert!(!marker.exists(), "the command ran without the go byte");

    let ran = supervise("printf g |");
    assert_eq!(ran.status.code(), Some(0), "{ran:?}");
    let report = String::from_utf8_lossy(&ran.stdout);
    assert!(report.starts_with("child ") && report.ends_with("exit 0\n"), "{report}");
    assert!(marker.exists());
}
