//! `opsdeck __supervise --timeout-ms N --status-fd 3 --go-fd 4 -- argv…`: the small
//! process that runs an action's command so its timeout holds without
//! opsdeck. opsdeck starts it in a process group of its own; it starts the
//! command in another group, and at its own deadline (or on SIGTERM from
//! opsdeck, a cancel) kills that whole group, SIGTERM then SIGKILL. If
//! opsdeck is killed (`kill -9`), the supervisor is not: it is not tied to
//! opsdeck's life, so the command still ends at its timeout. If the
//! supervisor itself is killed, the command gets SIGKILL (PR_SET_PDEATHSIG).
//!
//! It starts the command only when opsdeck writes a byte on the go fd,
//! after the audit row records the supervisor's pid: a cockpit killed in
//! between leaves nothing running that the trail does not name.
//!
//! It reports on the status fd, one line each: `child PID`, then one of
//! `exit N`, `signal N`, `timeout`, `cancelled`, `spawn-failed WHY`.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::signal::unix::{SignalKind, signal};

/// The hidden subcommand's name.
pub const SUBCOMMAND: &str = "__supervise";

/// After SIGTERM to the group, how long before SIGKILL.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// The report channel opsdeck handed over, if any.
struct Status(Option<std::fs::File>);

impl Status {
    fn open(fd: Option<i32>) -> Status {
        let Some(fd) = fd.filter(|fd| *fd > 2) else { return Status(None) };
        // SAFETY: fcntl(2) on an integer fd; F_GETFD fails with EBADF when
        // the fd is not open, and then it is not used.
        if unsafe { libc::fcntl(fd, libc::F_GETFD) } < 0 {
            return Status(None);
        }
        // SAFETY: as above. Close-on-exec: the command must not hold the
        // report open (opsdeck reads it to its end when we exit).
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
        // SAFETY: the fd is open, ours (opsdeck dup'ed it for us), and
        // owned by this File from here on.
        Status(Some(unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) }))
    }

    fn say(&mut self, line: &str) {
        if let Some(f) = &mut self.0 {
            let _ = f.write_all(format!("{line}\n").as_bytes());
        }
    }
}

/// Block until opsdeck writes its go byte on `fd` (the run's process is in
/// the audit row); `false` on EOF, which is opsdeck giving up or dying.
fn wait_for_go(fd: i32) -> bool {
    use std::io::Read;
    // SAFETY: fcntl(2) on an integer fd; EBADF means opsdeck passed none.
    if fd <= 2 || unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) } < 0 {
        return false;
    }
    // SAFETY: the fd is open and ours (opsdeck dup'ed it for us); the File owns it.
    let mut go: std::fs::File = unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) };
    let mut byte = [0u8; 1];
    go.read_exact(&mut byte).is_ok()
}

/// Run the supervisor; returns its exit code (the command's code, 128+N
/// for signal N, 124 timed out, 130 cancelled, 127 did not start).
pub fn main(timeout: Duration, status_fd: Option<i32>, go_fd: Option<i32>, argv: &[String]) -> u8 {
    let mut status = Status::open(status_fd);
    if let Some(fd) = go_fd
        && !wait_for_go(fd)
    {
        status
            .say("spawn-failed not started: opsdeck did not confirm the run is recorded in the audit trail");
        return 127;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            status.say(&format!("spawn-failed the supervisor cannot start its runtime: {e}"));
            return 127;
        }
    };
    runtime.block_on(supervise(timeout, argv, &mut status))
}

async fn supervise(timeout: Duration, argv: &[String], status: &mut Status) -> u8 {
    let Some((program, args)) = argv.split_first() else {
        status.say("spawn-failed argv is empty");
        return 127;
    };
    // Handlers, not SIG_IGN: the command starts with the default dispositions.
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()))
    else {
        status.say("spawn-failed the supervisor cannot watch for signals");
        return 127;
    };
    // The environment is already the one opsdeck chose for this command
    // (child_env): inherit it as it is.
    let mut cmd = tokio::process::Command::new(program);
    // Output goes through us, not straight to opsdeck's pipes: when opsdeck
    // is gone its pipes are broken, and a command writing to one would die
    // of SIGPIPE half-way through; we keep reading and drop what nobody reads.
    cmd.args(args).process_group(0).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: prctl(2) with integer arguments only, async-signal-safe; it
    // runs in the child between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong);
            Ok(())
        });
    }
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            status.say(&format!("spawn-failed cannot start {program:?}: {e}"));
            return 127;
        }
    };
    let Some(pgid) = child.id().map(|id| id as libc::pid_t) else {
        status.say("spawn-failed the command vanished as it started");
        return 127;
    };
    status.say(&format!("child {pgid}"));
    let relays = [
        child.stdout.take().map(|out| tokio::spawn(relay(out, tokio::io::stdout()))),
        child.stderr.take().map(|err| tokio::spawn(relay(err, tokio::io::stderr()))),
    ];
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    let (line, code) = tokio::select! {
        s = child.wait() => match s {
            Ok(s) => match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                (Some(code), _) => (format!("exit {code}"), u8::try_from(code).unwrap_or(1)),
                (None, Some(sig)) => (format!("signal {sig}"), 128u8.saturating_add(sig as u8)),
                (None, None) => ("exit -1".to_owned(), 1),
            },
            Err(e) => (format!("spawn-failed lost track of {program:?}: {e}"), 127),
        },
        () = &mut deadline => {
            kill_group(pgid, &mut child).await;
            ("timeout".to_owned(), 124)
        }
        _ = term.recv() => {
            kill_group(pgid, &mut child).await;
            ("cancelled".to_owned(), 130)
        }
        _ = int.recv() => {
            kill_group(pgid, &mut child).await;
            ("cancelled".to_owned(), 130)
        }
    };
    // What the command wrote before it ended, without waiting on a
    // background process it left holding the pipe.
    for relay in relays.into_iter().flatten() {
        let _ = tokio::time::timeout(RELAY_DRAIN, relay).await;
    }
    status.say(&line);
    code
}

/// After the command ends, how long to keep relaying what it wrote.
const RELAY_DRAIN: Duration = Duration::from_millis(250);

/// Copy `from` to `to` until `from` ends; once `to` is broken (opsdeck is
/// gone), keep reading and discard, so the command never blocks or gets
/// SIGPIPE on our account.
async fn relay(mut from: impl AsyncRead + Unpin, mut to: impl AsyncWrite + Unpin) {
    let mut buf = vec![0u8; 16 * 1024];
    let mut broken = false;
    while let Ok(n) = from.read(&mut buf).await {
        if n == 0 {
            break;
        }
        if !broken {
            broken = to.write_all(&buf[..n]).await.and(to.flush().await).is_err();
        }
    }
}

/// SIGTERM to the whole group, SIGKILL after a grace period, then reap.
pub async fn kill_group(pgid: libc::pid_t, child: &mut tokio::process::Child) {
    // SAFETY: killpg(2) takes plain integers; the group is the one made for
    // this child, so no unrelated process can be signalled.
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

/// One line of the supervisor's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    /// The command started with this pid (its process group).
    Child(i32),
    /// How it ended.
    Ended(super::run::Ending),
}

/// Read one report line.
pub fn parse_report(line: &str) -> Option<Report> {
    use super::run::Ending;
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    Some(match word {
        "child" => Report::Child(rest.parse().ok()?),
        "exit" => Report::Ended(Ending::Exited(rest.parse().ok()?)),
        "signal" => Report::Ended(Ending::Signalled(rest.parse().ok()?)),
        "timeout" => Report::Ended(Ending::TimedOut),
        "cancelled" => Report::Ended(Ending::Cancelled),
        "spawn-failed" => Report::Ended(Ending::SpawnFailed(rest.to_owned())),
        _ => return None,
    })
}
