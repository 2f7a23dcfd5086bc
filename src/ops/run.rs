//! Running an action's command: from an argv list (never a shell string), in
//! its own process group so a timeout or a cancel takes down everything it
//! started, with output streamed line by line and a bounded excerpt kept for
//! the audit trail.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::Command;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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

/// After SIGTERM to the group, how long before SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// After the program exits, how long to keep reading output that a leftover
/// background process may still hold open.
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(300);

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
    let mut cmd = Command::new(program);
    cmd.args(args)
        .stdin(if spec.stdin.is_some() { Stdio::piped() } else { Stdio::null() })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0) // its own group: killpg reaches grandchildren
        .kill_on_drop(true);
    if let Some(dir) = &spec.cwd {
        cmd.current_dir(dir);
    }
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => return spawn_failed(started, format!("cannot start {program:?}: {e}")),
    };
    let pgid = child.id().map(|id| id as libc::pid_t);
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
    let deadline = tokio::time::sleep(spec.timeout);
    tokio::pin!(deadline);
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
            Some((stream, line)) = rx.recv() => {
                excerpt.push(&line);
                let _ = lines.try_send((stream, line));
            }
            () = &mut deadline => {
                kill_group(pgid, &mut child).await;
                break Ending::TimedOut;
            }
            () = cancel.cancelled() => {
                kill_group(pgid, &mut child).await;
                break Ending::Cancelled;
            }
        }
    };
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
    let Some(pgid) = pgid else { return };
    // SAFETY: killpg(2) takes plain integers; the group is the one we made
    // for this child, so no unrelated process can be signalled.
    unsafe {
        libc::killpg(pgid, libc::SIGTERM);
    }
    if tokio::time::timeout(KILL_GRACE, child.wait()).await.is_err() {
        // SAFETY: as above.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
        let _ = child.wait().await;
    }
    // Members that ignored SIGTERM while the leader obeyed it.
    // SAFETY: as above; ESRCH when the group is already empty is fine.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
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
