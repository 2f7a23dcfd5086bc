//! End-to-end harness: run the real `opsdeck` binary in a pseudo-terminal
//! with an isolated environment, feed everything it writes into a `vt100`
//! emulator, and let tests wait for what the screen shows.
//!
//! Nothing here sleeps as an assertion: every wait polls with a deadline and
//! fails with the screen and the tail of the raw output when time runs out.
//! A `Session` kills its processes when dropped, so a failing test never
//! leaves one behind.

#![allow(dead_code)] // each test binary uses a different part of the harness

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_opsdeck");

/// Default terminal height (`spawn_sized` picks another).
pub const ROWS: u16 = 30;
/// Default terminal width.
pub const COLS: u16 = 100;

/// How long any single wait may take. Generous: the suite runs on loaded
/// two-core machines, and a debug build of a TUI is not fast.
pub const TIMEOUT: Duration = Duration::from_secs(15);

/// How often waits poll.
const POLL: Duration = Duration::from_millis(20);

/// Enter the alternate screen (the restore checks look for these).
pub const ENTER_ALT_SCREEN: &str = "\x1b[?1049h";
/// Leave the alternate screen.
pub const LEAVE_ALT_SCREEN: &str = "\x1b[?1049l";
/// Show the cursor.
pub const SHOW_CURSOR: &str = "\x1b[?25h";
/// Turn off X10/normal mouse reporting.
pub const MOUSE_OFF: &str = "\x1b[?1000l";

/// A temporary home: config, data and log files of the binary land here.
pub struct Sandbox {
    dir: tempfile::TempDir,
}

impl Default for Sandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl Sandbox {
    /// A fresh, empty sandbox.
    pub fn new() -> Sandbox {
        let dir = tempfile::Builder::new().prefix("opsdeck-e2e-").tempdir().expect("create a tempdir");
        for sub in ["config", "data"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("create sandbox dirs");
        }
        Sandbox { dir }
    }

    /// The sandbox root (also `$HOME`).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Write `contents` to `name` inside the sandbox and return its path.
    pub fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, contents).expect("write a sandbox file");
        path
    }

    /// The isolated environment: (name, value) to set, then names to remove.
    fn env(&self) -> (Vec<(&'static str, PathBuf)>, [&'static str; 5]) {
        let root = self.path();
        let set = vec![
            ("HOME", root.to_path_buf()),
            ("XDG_CONFIG_HOME", root.join("config")),
            ("XDG_DATA_HOME", root.join("data")),
            ("TERM", PathBuf::from("xterm-256color")),
        ];
        // The backtrace variables would make a panic report outgrow the screen.
        (set, ["NO_COLOR", "OPSDECK_CONFIG", "COLORTERM", "RUST_BACKTRACE", "RUST_LIB_BACKTRACE"])
    }

    /// A plain `std::process::Command` for the binary with the isolated
    /// environment, for runs that need no terminal.
    pub fn command<I, S>(&self, args: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new(BIN);
        cmd.args(args).current_dir(self.path());
        let (set, remove) = self.env();
        for (k, v) in set {
            cmd.env(k, v);
        }
        for k in remove {
            cmd.env_remove(k);
        }
        cmd
    }

    /// Run the binary in a PTY with `args`.
    pub fn spawn(&self, args: &[&str]) -> Session {
        self.spawn_with(args, &[])
    }

    /// Run the binary in a PTY with `args` and extra environment.
    pub fn spawn_with(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Session {
        let mut argv = vec![BIN];
        argv.extend_from_slice(args);
        self.spawn_argv(&argv, extra_env)
    }

    /// Run any program in a PTY with the isolated environment.
    pub fn spawn_argv(&self, argv: &[&str], extra_env: &[(&str, &str)]) -> Session {
        self.spawn_sized(argv, extra_env, ROWS, COLS)
    }

    /// `spawn_argv` with a terminal of `rows` × `cols`.
    pub fn spawn_sized(&self, argv: &[&str], extra_env: &[(&str, &str)], rows: u16, cols: u16) -> Session {
        let mut cmd = CommandBuilder::from_argv(argv.iter().map(Into::into).collect());
        cmd.cwd(self.path());
        let (set, remove) = self.env();
        for (k, v) in set {
            cmd.env(k, v);
        }
        for k in remove {
            cmd.env_remove(k);
        }
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        Session::spawn(cmd, rows, cols)
    }
}

/// The PTY's input side, shared by the test and the reader thread (which
/// answers terminal queries).
type SharedWriter = Arc<Mutex<Box<dyn Write + Send>>>;

/// Device Status Report, "where is the cursor?". A real terminal answers;
/// the binary waits for the answer (ratatui's `Terminal::clear` asks).
const CURSOR_POSITION_QUERY: &[u8] = b"\x1b[6n";

/// Move `pending` into the emulator, answering each cursor position query
/// with the emulator's cursor at that point, as a terminal would. A tail
/// that may be the start of a query split across reads stays pending.
fn feed(out: &mut Output, pending: &mut Vec<u8>, replies: &SharedWriter) {
    let q = CURSOR_POSITION_QUERY;
    let mut start = 0;
    while let Some(at) = pending[start..].windows(q.len()).position(|w| w == q) {
        let end = start + at + q.len();
        out.parser.process(&pending[start..end]);
        out.raw.extend_from_slice(&pending[start..end]);
        start = end;
        if !out.answer_queries {
            continue;
        }
        let (row, col) = out.parser.screen().cursor_position();
        let reply = format!("\x1b[{};{}R", row + 1, col + 1);
        let mut w = replies.lock().unwrap_or_else(|e| e.into_inner());
        let _ = w.write_all(reply.as_bytes()).and_then(|()| w.flush());
    }
    let keep =
        (1..q.len()).rev().find(|&k| pending.len() - start >= k && pending.ends_with(&q[..k])).unwrap_or(0);
    let upto = pending.len() - keep;
    out.parser.process(&pending[start..upto]);
    out.raw.extend_from_slice(&pending[start..upto]);
    pending.drain(..upto);
}

/// What the reader thread has seen.
struct Output {
    parser: vt100::Parser,
    /// Answer cursor position queries, as terminals do (on by default).
    answer_queries: bool,
    raw: Vec<u8>,
    /// The PTY reported end of file: every process holding it has exited.
    eof: bool,
}

/// One running program in a PTY.
pub struct Session {
    child: Box<dyn Child + Send + Sync>,
    pid: i32,
    master: Box<dyn MasterPty + Send>,
    writer: SharedWriter,
    output: Arc<Mutex<Output>>,
    exit: Option<i32>,
    /// Processes the session started indirectly (a wrapper's children);
    /// killed on drop too.
    extra_pids: Vec<i32>,
}

impl Session {
    fn spawn(cmd: CommandBuilder, rows: u16, cols: u16) -> Session {
        let pair = native_pty_system()
            .openpty(PtySize { rows, cols, pixel_width: 0, pixel_height: 0 })
            .expect("open a pty");
        let child = pair.slave.spawn_command(cmd).expect("spawn in the pty");
        // Only the child may hold the slave, or end of file never comes.
        drop(pair.slave);
        let pid = child.process_id().expect("child pid") as i32;
        let mut reader = pair.master.try_clone_reader().expect("pty reader");
        let writer: SharedWriter = Arc::new(Mutex::new(pair.master.take_writer().expect("pty writer")));
        let output = Arc::new(Mutex::new(Output {
            parser: vt100::Parser::new(rows, cols, 0),
            answer_queries: true,
            raw: Vec::new(),
            eof: false,
        }));
        let shared = Arc::clone(&output);
        let replies = Arc::clone(&writer);
        thread::Builder::new()
            .name(format!("pty-reader-{pid}"))
            .spawn(move || {
                let mut buf = [0u8; 16 * 1024];
                let mut pending = Vec::new();
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) | Err(_) => break, // EIO once the slave side is closed
                        Ok(n) => {
                            pending.extend_from_slice(&buf[..n]);
                            let mut out = shared.lock().unwrap_or_else(|e| e.into_inner());
                            feed(&mut out, &mut pending, &replies);
                        }
                    }
                }
                let mut out = shared.lock().unwrap_or_else(|e| e.into_inner());
                let rest = std::mem::take(&mut pending);
                out.parser.process(&rest);
                out.raw.extend_from_slice(&rest);
                out.eof = true;
            })
            .expect("start the reader thread");
        Session { child, pid, master: pair.master, writer, output, exit: None, extra_pids: Vec::new() }
    }

    /// The process id of the program the PTY runs.
    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Also kill `pid` when the session is dropped.
    pub fn adopt(&mut self, pid: i32) {
        self.extra_pids.push(pid);
    }

    fn lock(&self) -> MutexGuard<'_, Output> {
        self.output.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The visible screen as text, rows joined by newlines.
    pub fn screen_text(&self) -> String {
        self.lock().parser.screen().contents()
    }

    /// Read the emulated screen itself: every cell with its colours.
    pub fn with_screen<R>(&self, f: impl FnOnce(&vt100::Screen) -> R) -> R {
        f(self.lock().parser.screen())
    }

    /// Whether the emulated terminal is on the alternate screen.
    pub fn alternate_screen(&self) -> bool {
        self.lock().parser.screen().alternate_screen()
    }

    /// A copy of every byte the program wrote so far.
    pub fn raw(&self) -> Vec<u8> {
        self.lock().raw.clone()
    }

    /// How many bytes the program wrote so far (a mark for `raw_since`).
    pub fn raw_len(&self) -> usize {
        self.lock().raw.len()
    }

    /// The raw output from byte `mark` on, lossily as text.
    pub fn raw_since(&self, mark: usize) -> String {
        String::from_utf8_lossy(&self.lock().raw[mark..]).into_owned()
    }

    /// Whether the emulated terminal answers cursor position queries from
    /// now on, like a real terminal does; some (serial consoles, dumb
    /// terminals, a link slower than the query's timeout) never answer.
    pub fn answer_cursor_queries(&self, answer: bool) {
        self.lock().answer_queries = answer;
    }

    /// Type `bytes` into the terminal.
    pub fn send(&mut self, bytes: impl AsRef<[u8]>) {
        let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
        w.write_all(bytes.as_ref()).expect("write to the pty");
        w.flush().expect("flush the pty");
    }

    /// Send `signal` to the program.
    pub fn signal(&self, signal: libc::c_int) {
        // SAFETY: kill(2) only reads its arguments.
        let rc = unsafe { libc::kill(self.pid, signal) };
        assert_eq!(rc, 0, "kill({}, {signal}): {}", self.pid, std::io::Error::last_os_error());
    }

    /// Local flags (`c_lflag`) of the terminal, read through the master.
    pub fn local_flags(&self) -> libc::tcflag_t {
        let fd = self.master.as_raw_fd().expect("master fd");
        // SAFETY: termios is plain old data; tcgetattr fills it or fails.
        let mut t: libc::termios = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::tcgetattr(fd, &mut t) };
        assert_eq!(rc, 0, "tcgetattr: {}", std::io::Error::last_os_error());
        t.c_lflag
    }

    /// A readable dump for failure messages.
    pub fn dump(&self) -> String {
        let out = self.lock();
        let tail_from = out.raw.len().saturating_sub(600);
        format!(
            "--- screen (alternate: {}) ---\n{}\n--- last raw bytes ---\n{:?}",
            out.parser.screen().alternate_screen(),
            out.parser.screen().contents(),
            String::from_utf8_lossy(&out.raw[tail_from..])
        )
    }

    /// Poll until `pred` holds for the screen text; return that text.
    #[track_caller]
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait_for_within(what, TIMEOUT, pred)
    }

    /// Poll until `pred` holds for the screen text or `timeout` passes.
    #[track_caller]
    pub fn wait_for_within(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        self.wait_until(what, timeout, |out| {
            let text = out.parser.screen().contents();
            pred(&text).then_some(text)
        })
    }

    /// Poll until the screen contains `needle`.
    #[track_caller]
    pub fn wait_for_text(&self, needle: &str) -> String {
        self.wait_for(&format!("screen to contain {needle:?}"), |s| s.contains(needle))
    }

    /// Poll until `pred` holds for the emulated screen.
    #[track_caller]
    pub fn wait_for_screen(&self, what: &str, pred: impl Fn(&vt100::Screen) -> bool) {
        self.wait_until(what, TIMEOUT, |out| pred(out.parser.screen()).then_some(()))
    }

    /// Poll until the raw output from byte `mark` on contains `needle`;
    /// return the offset just past its first occurrence there.
    #[track_caller]
    pub fn wait_for_raw(&self, mark: usize, needle: &str) -> usize {
        let needle = needle.as_bytes();
        self.wait_until(&format!("output to contain {:?}", String::from_utf8_lossy(needle)), TIMEOUT, |out| {
            let from = mark.min(out.raw.len());
            let at = out.raw[from..].windows(needle.len()).position(|w| w == needle)?;
            Some(from + at + needle.len())
        })
    }

    /// Poll until any condition holds: `Some` ends the wait.
    #[track_caller]
    fn wait_until<T>(&self, what: &str, timeout: Duration, mut check: impl FnMut(&Output) -> Option<T>) -> T {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(v) = check(&self.lock()) {
                return v;
            }
            if Instant::now() >= deadline {
                panic!("timed out after {timeout:?} waiting for {what}\n{}", self.dump());
            }
            thread::sleep(POLL);
        }
    }

    /// Poll until an arbitrary condition outside the terminal holds.
    #[track_caller]
    pub fn wait_for_cond(&self, what: &str, mut cond: impl FnMut() -> bool) {
        self.wait_until(what, TIMEOUT, |_| cond().then_some(()))
    }

    /// Wait for the program to exit and for all its output to be read;
    /// return its exit code. A death by signal fails the test: opsdeck
    /// turns the signals it handles into exit codes.
    #[track_caller]
    pub fn wait_exit(&mut self) -> i32 {
        self.wait_exit_within(TIMEOUT)
    }

    /// `wait_exit` with an explicit deadline.
    #[track_caller]
    pub fn wait_exit_within(&mut self, timeout: Duration) -> i32 {
        if let Some(code) = self.exit {
            return code;
        }
        let deadline = Instant::now() + timeout;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                break status;
            }
            if Instant::now() >= deadline {
                panic!("timed out after {timeout:?} waiting for pid {} to exit\n{}", self.pid, self.dump());
            }
            thread::sleep(POLL);
        };
        // portable-pty maps a signal death to code 1 plus the signal's name;
        // a real exit code has no signal.
        if let Some(sig) = status.signal() {
            self.exit = Some(-1);
            panic!("pid {} was killed by a signal ({sig}), not exited\n{}", self.pid, self.dump());
        }
        let code = status.exit_code() as i32;
        self.exit = Some(code);
        // Whatever it wrote before exiting may still be in the PTY buffer.
        self.wait_until("the pty to reach end of file", TIMEOUT, |out| out.eof.then_some(()));
        code
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        for &pid in &self.extra_pids {
            if process_state(pid).is_some() {
                // SAFETY: kill(2) only reads its arguments.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
        }
        if self.exit.is_none() && matches!(self.child.try_wait(), Ok(None)) {
            // SAFETY: as above; the child is ours and not yet reaped, so the
            // pid cannot have been reused.
            unsafe { libc::kill(self.pid, libc::SIGKILL) };
            let _ = self.child.wait();
        }
    }
}

/// The state letter of `/proc/PID/stat` (R, S, T, Z…), `None` if gone.
pub fn process_state(pid: i32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ppid …": comm may contain spaces and parentheses.
    let after = &stat[stat.rfind(')')? + 1..];
    after.trim_start().chars().next()
}

/// Parent pid and command name of `pid`.
fn parent_and_comm(pid: i32) -> Option<(i32, String)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_owned();
    let ppid = stat[close + 1..].split_whitespace().nth(1)?.parse().ok()?;
    Some((ppid, comm))
}

/// Children of `parent` whose command name is `comm`.
pub fn children_named(parent: i32, comm: &str) -> Vec<i32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| parent_and_comm(pid).is_some_and(|(ppid, c)| ppid == parent && c == comm))
        .collect()
}

/// Whether `haystack` contains `needle` as bytes.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    find_last(haystack, needle).is_some()
}

/// Byte offset of the last occurrence of `needle`.
pub fn find_last(haystack: &[u8], needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

/// The first "CPU <number>%" figure on the screen, e.g. 12.3 from
/// "╭ CPU 12.3% ───".
pub fn cpu_figure(screen: &str) -> Option<f64> {
    screen.match_indices("CPU ").find_map(|(i, m)| {
        let rest = &screen[i + m.len()..];
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        let num = &rest[..num_len];
        if num.is_empty()
            || !num.starts_with(|c: char| c.is_ascii_digit())
            || !rest[num_len..].starts_with('%')
        {
            return None;
        }
        num.parse().ok()
    })
}
