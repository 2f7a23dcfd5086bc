//! Running an action's command: from an argv list (never a shell string), in
//! its own process group so a timeout or a cancel takes down everything it
//! started, with output streamed line by line and a bounded excerpt kept for
//! the audit trail.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::supervise::{self, KILL_GRACE};
use super::{child_env, identity};

/// How the command is run besides its argv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunSpec {
    /// Program and arguments, already rendered.
    pub argv: Vec<String>,
    /// Longest the command may run before its process group is killed.
    pub timeout: Duration,
    /// Working directory; opsdeck's own when `None`.
    pub cwd: Option<PathBuf>,
    /// Extra environment.
    pub env: Vec<(String, String)>,
    /// Text for the command's stdin (then closed); stdin is empty when `None`.
    pub stdin: Option<String>,
}

/// Which stream a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// The program exited with this status.
    Exited(i32),
    /// The program was killed by this signal (not by us).
    Signalled(i32),
    /// It ran past its timeout; its process group was killed.
    TimedOut,
    /// The operator cancelled it; its process group was killed.
    Cancelled,
    /// It never started.
    SpawnFailed(String),
    /// A built-in action succeeded.
    Done,
    /// A built-in action failed, for this reason.
    Failed(String),
}

impl Ending {
    /// Whether this is success.
    pub fn succeeded(&self) -> bool {
        matches!(self, Ending::Exited(0) | Ending::Done)
    }
}

/// The result of a run, for the run view and the audit row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub ending: Ending,
    /// Wall time from spawn to end.
    pub duration: Duration,
    /// The last `EXCERPT_BYTES` of combined output.
    pub excerpt: String,
    /// True when output was dropped from the excerpt's front.
    pub excerpt_truncated: bool,
}

/// Output kept for the audit row: enough to see what happened, bounded so a
/// chatty command cannot bloat the store.
pub const EXCERPT_BYTES: usize = 8 * 1024;

/// After the program exits, how long to keep reading output that a leftover
/// background process may still hold open.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(300);

/// How long past the command's timeout opsdeck waits for its supervisor to
/// have killed it before killing both itself.
const SUPERVISOR_SLACK: Duration = Duration::from_secs(5);

/// The fd the supervisor reports on.
const STATUS_FD: i32 = 3;

static SUPERVISOR: OnceLock<PathBuf> = OnceLock::new();

/// Run every command through `exe __supervise` (the opsdeck binary), so
/// its timeout holds even if this process is killed. The binary sets it to
/// itself at start; a library user (a test) names the binary. Without it,
/// commands run directly under this process.
pub fn use_supervisor(exe: PathBuf) {
    let _ = SUPERVISOR.set(exe);
}

/// The fd the supervisor waits on before it starts the command.
const GO_FD: i32 = 4;

/// How long a supervisor waits for its process to be recorded.
const RECORD_TIMEOUT: Duration = Duration::from_secs(10);

/// A process started for a run: the one to watch for liveness.
#[derive(Debug)]
pub struct Spawned {
    /// Its pid.
    pub pid: i64,
    /// Its start time (`/proc/<pid>/stat` field 22).
    pub start: i64,
    /// Answer `true` once the process is recorded: a supervisor starts the
    /// command only then (no record, no run). `None` for an unsupervised run.
    pub recorded: Option<tokio::sync::oneshot::Sender<bool>>,
}

tokio::task_local! {
    static ON_SPAWN: mpsc::UnboundedSender<Spawned>;
}

/// Run `work`, sending each process [`run`] starts inside it to `spawned`
/// (the executor records it in the audit row).
pub async fn reporting_spawns<F: std::future::Future>(
    spawned: mpsc::UnboundedSender<Spawned>,
    work: F,
) -> F::Output {
    ON_SPAWN.scope(spawned, work).await
}

/// Run `spec`, sending each output line to `lines` (if the receiver keeps
/// up; a slow view never stalls the command). Returns when the program has
/// ended and, on timeout or cancel, its whole process group is gone.
pub async fn run(
    spec: &RunSpec,
    cancel: &CancellationToken,
    lines: &mpsc::Sender<(Stream, String)>,
) -> Outcome {
    let started = Instant::now();
    let Some((program, args)) = spec.argv.split_first() else {
        return spawn_failed(started, "argv is empty".into());
    };
    let supervisor = SUPERVISOR.get();
    let mut status_pipe: Option<(OwnedFd, OwnedFd, OwnedFd, OwnedFd)> = None;
    let mut cmd = match supervisor {
        Some(exe) => {
            let ((read, write), (go_read, go_write)) = match (pipe(), pipe()) {
                (Ok(status), Ok(go)) => (status, go),
                (Err(e), _) | (_, Err(e)) => {
                    return spawn_failed(started, format!("cannot make the supervisor's pipes: {e}"));
                }
            };
            let mut cmd = child_env::command(exe);
            cmd.arg(supervise::SUBCOMMAND)
                .arg("--timeout-ms")
                .arg(spec.timeout.as_millis().to_string())
                .arg("--status-fd")
                .arg(STATUS_FD.to_string())
                .arg("--go-fd")
                .arg(GO_FD.to_string())
                .arg("--")
                .args(&spec.argv);
            let (w, r) = (write.as_raw_fd(), go_read.as_raw_fd());
            // SAFETY: fcntl(2)/dup2(2) on integer fds, async-signal-safe,
            // between fork and exec. Both ends are first copied above the
            // target numbers (so neither is clobbered by the other's dup2),
            // then put at 3 and 4, which dup2 leaves open across exec; the
            // copies are close-on-exec.
            unsafe {
                cmd.pre_exec(move || {
                    // A session of its own: out of the cockpit's terminal, so
                    // nothing that happens to that terminal reaches it; also
                    // its own process group, for killpg.
                    if libc::setsid() < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    let high_w = libc::fcntl(w, libc::F_DUPFD_CLOEXEC, 10);
                    let high_r = libc::fcntl(r, libc::F_DUPFD_CLOEXEC, 10);
                    if high_w < 0
                        || high_r < 0
                        || libc::dup2(high_w, STATUS_FD) < 0
                        || libc::dup2(high_r, GO_FD) < 0
                    {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
            status_pipe = Some((read, write, go_read, go_write));
            cmd
        }
        None => {
            let mut cmd = child_env::command(program);
            cmd.args(args).process_group(0); // its own group: killpg reaches grandchildren
            cmd
        }
    };
    cmd.stdin(if spec.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    if let Some(dir) = &spec.cwd {
        cmd.current_dir(dir);
    }
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
    let spawned = cmd.spawn();
    // Our copies of the supervisor's ends close now: the report ends when
    // the supervisor does, and the go pipe reads EOF if we drop our end.
    let (status_read, go) = match status_pipe {
        Some((read, _write, _go_read, go_write)) => (Some(read), Some(std::fs::File::from(go_write))),
        None => (None, None),
    };
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return spawn_failed(started, format!("cannot start {program:?}: {e}")),
    };
    let pgid = child.id().map(|id| id as libc::pid_t);
    let (ack_tx, ack_rx) = tokio::sync::oneshot::channel();
    let mut ack_tx = go.is_some().then_some(ack_tx);
    let reported = pgid.zip(pgid.and_then(identity::start_time)).is_some_and(|(pid, start)| {
        let spawned = Spawned { pid: pid.into(), start: start as i64, recorded: ack_tx.take() };
        ON_SPAWN.try_with(|tx| tx.send(spawned).is_ok()).unwrap_or(false)
    });
    if let Some(mut go) = go {
        // Watched runs start once their process is in the audit row; a run
        // nobody records (a library caller) starts at once.
        let recorded = if reported {
            matches!(tokio::time::timeout(RECORD_TIMEOUT, ack_rx).await, Ok(Ok(true)))
        } else {
            true
        };
        if recorded {
            use std::io::Write;
            // One byte into an empty pipe: never blocks.
            let _ = go.write_all(b"g");
        }
        // Dropped either way: without the byte, the supervisor sees EOF and
        // reports that it did not start the command.
    }
    let mut reports = status_read.map(read_reports);
    if let (Some(text), Some(mut pipe)) = (spec.stdin.clone(), child.stdin.take()) {
        // Written from a task so a command that never reads cannot block us;
        // dropping the pipe closes it, which is the command's end of input.
        tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            let _ = pipe.write_all(text.as_bytes()).await;
        });
    }

    let (tx, mut rx) = mpsc::channel::<(Stream, String)>(256);
    if let Some(out) = child.stdout.take() {
        tokio::spawn(forward(out, Stream::Stdout, tx.clone()));
    }
    if let Some(err) = child.stderr.take() {
        tokio::spawn(forward(err, Stream::Stderr, tx.clone()));
    }
    drop(tx);

    let mut excerpt = Excerpt::default();
    // Supervised, the supervisor keeps the deadline; ours is the backstop.
    let backstop =
        if supervisor.is_some() { spec.timeout + KILL_GRACE + SUPERVISOR_SLACK } else { spec.timeout };
    let deadline = tokio::time::sleep(backstop);
    tokio::pin!(deadline);
    let mut command_group: Option<libc::pid_t> = None;
    let mut reported: Option<Ending> = None;
    let ending = loop {
        tokio::select! {
            status = child.wait() => break match status {
                Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                    (Some(code), _) => Ending::Exited(code),
                    (None, Some(sig)) => Ending::Signalled(sig),
                    (None, None) => Ending::Exited(-1),
                },
                Err(e) => Ending::SpawnFailed(format!("lost track of {program:?}: {e}")),
            },
            Some(report) = next_report(&mut reports) => match report {
                supervise::Report::Child(pid) => command_group = Some(pid),
                supervise::Report::Ended(e) => reported = Some(e),
            },
            Some((stream, line)) = rx.recv() => {
                excerpt.push(&line);
                let _ = lines.try_send((stream, line));
            }
            () = &mut deadline => {
                kill_group(pgid, &mut child).await;
                if let Some(group) = command_group {
                    // The supervisor did not do its job; its command's group too.
                    // SAFETY: killpg(2) on the group the supervisor reported for this command.
                    unsafe { libc::killpg(group, libc::SIGKILL) };
                }
                break Ending::TimedOut;
            }
            () = cancel.cancelled() => {
                match (supervisor, pgid) {
                    (Some(_), Some(pid)) => {
                        // The supervisor kills its command's group and reports.
                        // SAFETY: kill(2) of our own child, not yet reaped.
                        unsafe { libc::kill(pid, libc::SIGTERM) };
                        if tokio::time::timeout(KILL_GRACE + SUPERVISOR_SLACK, child.wait()).await.is_err() {
                            kill_group(pgid, &mut child).await;
                        }
                    }
                    _ => kill_group(pgid, &mut child).await,
                }
                break Ending::Cancelled;
            }
        }
    };
    // The supervisor's own account wins over its exit status. It has
    // exited, so its report is complete; the bound is for the impossible.
    let rest = async {
        while let Some(report) = next_report(&mut reports).await {
            if let supervise::Report::Ended(e) = report {
                reported = Some(e);
            }
        }
    };
    let _ = tokio::time::timeout(DRAIN_AFTER_EXIT, rest).await;
    let ending = reported.unwrap_or(ending);
    // Whatever was written before the end, without waiting on a background
    // process that inherited the pipe.
    let drain = tokio::time::sleep(DRAIN_AFTER_EXIT);
    tokio::pin!(drain);
    loop {
        tokio::select! {
            next = rx.recv() => match next {
                Some((stream, line)) => {
                    excerpt.push(&line);
                    let _ = lines.try_send((stream, line));
                }
                None => break,
            },
            () = &mut drain => break,
        }
    }
    Outcome {
        ending,
        duration: started.elapsed(),
        excerpt: excerpt.text,
        excerpt_truncated: excerpt.truncated,
    }
}

/// A pipe, both ends close-on-exec.
fn pipe() -> std::io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2(2) writes two fds into the array it is given.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both fds were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// The supervisor's report lines, read on a blocking thread to the pipe's end.
fn read_reports(read: OwnedFd) -> mpsc::Receiver<supervise::Report> {
    let (tx, rx) = mpsc::channel(8);
    tokio::task::spawn_blocking(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(std::fs::File::from(read)).lines() {
            let Ok(line) = line else { break };
            if let Some(report) = supervise::parse_report(&line)
                && tx.blocking_send(report).is_err()
            {
                break;
            }
        }
    });
    rx
}

async fn next_report(reports: &mut Option<mpsc::Receiver<supervise::Report>>) -> Option<supervise::Report> {
    match reports {
        Some(rx) => rx.recv().await,
        None => None,
    }
}

fn spawn_failed(started: Instant, why: String) -> Outcome {
    Outcome {
        ending: Ending::SpawnFailed(why),
        duration: started.elapsed(),
        excerpt: String::new(),
        excerpt_truncated: false,
    }
}

async fn forward(reader: impl AsyncRead + Unpin, stream: Stream, tx: mpsc::Sender<(Stream, String)>) {
    let mut lines = BufReader::new(reader).lines();
    // Invalid UTF-8 ends the stream's lines; the exit status still arrives.
    while let Ok(Some(line)) = lines.next_line().await {
        if tx.send((stream, line)).await.is_err() {
            break;
        }
    }
}

/// SIGTERM to the whole group, SIGKILL after a grace period, then reap.
async fn kill_group(pgid: Option<libc::pid_t>, child: &mut tokio::process::Child) {
    if let Some(pgid) = pgid {
        supervise::kill_group(pgid, child).await;
    }
}

/// The tail of the output, at most `EXCERPT_BYTES`, cut on a char boundary.
#[derive(Default)]
struct Excerpt {
    text: String,
    truncated: bool,
}

impl Excerpt {
    fn push(&mut self, line: &str) {
        self.text.push_str(line);
        self.text.push('\n');
        if self.text.len() > EXCERPT_BYTES {
            let mut cut = self.text.len() - EXCERPT_BYTES;
            while !self.text.is_char_boundary(cut) {
                cut += 1;
            }
            self.text.drain(..cut);
            self.truncated = true;
        }
    }
}
